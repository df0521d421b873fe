"""manage.py preflight: is this environment ready for production? Everything, at once.

Reports, in one list, every setting that cannot be read, every production
rule the settings break (config/production.py), the services that do not
answer (PostgreSQL and its migrations, the replica, Redis), missing collected
static files, and, when all that is right, Django's deployment checklist.
Each line says what to set. Exit status 0 when there is nothing to report,
1 otherwise, so that it can gate a deployment.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core import checks
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

from config import env


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0] if text else ''}".rstrip(": ")


def database_problems() -> list[str]:
    found = []
    databases = ((DEFAULT_DB_ALIAS, "DATABASE_URL"), ("replica", "DATABASE_REPLICA_URL"))
    for alias, variable in databases:
        if alias not in connections.databases:
            continue
        connection = connections[alias]
        host, name = connection.settings_dict.get("HOST"), connection.settings_dict["NAME"]
        where = f"{host}/{name}" if host else str(name)
        try:
            connection.ensure_connection()
        except Exception as exc:
            found.append(f"{variable}: cannot connect to {where} ({_first_line(exc)}).")
            continue
        if alias != DEFAULT_DB_ALIAS:
            continue
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
        if plan:
            found.append(
                f"{variable}: {len(plan)} migrations are not applied to {where}. "
                "Run: manage.py migrate --no-input"
            )
    return found


def redis_problems() -> list[str]:
    import redis

    urls = {}
    if settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        urls["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    if settings.REDIS_URL and settings.REDIS_URL not in urls.values():
        urls["REDIS_URL"] = settings.REDIS_URL
    found = []
    for variable, url in urls.items():
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
        except redis.RedisError as exc:
            found.append(f"{variable}: Redis does not answer ({_first_line(exc)}).")
    return found


def static_problems() -> list[str]:
    manifest = settings.STATIC_ROOT / "staticfiles.json"
    if manifest.is_file():
        return []
    return [
        f"STATIC_ROOT: no collected static files ({manifest} is missing). Run: "
        "manage.py collectstatic --no-input (with DEBUG=false every page needs them)."
    ]


def checklist_problems() -> list[str]:
    found = []
    for message in checks.run_checks(include_deployment_checks=True):
        if message.level >= checks.WARNING and not message.is_silenced():
            hint = f" {message.hint}" if message.hint else ""
            found.append(f"{message.id}: {message.msg}{hint}")
    return found


class Command(BaseCommand):
    help = (
        "Check that this environment is ready for production: every missing or unsafe "
        "setting at once, with what to set; exit status 1 if anything needs attention."
    )
    requires_system_checks: list = []  # run below, with the deployment checklist

    def handle(self, *args, **options):
        problems = list(settings.SETTINGS_ERRORS)
        problems += [str(problem) for problem in settings.PRODUCTION_PROBLEMS]
        problems += database_problems()
        problems += redis_problems()
        problems += static_problems()
        if not problems:
            # Django's own list repeats the rules above when they fail: only
            # what they do not cover is worth a line.
            problems += checklist_problems()
        if problems:
            self.stderr.write(f"RareDerm preflight: {env.report(problems)}")
            sys.exit(1)
        databases = "PostgreSQL" + (" and its replica" if "replica" in connections else "")
        self.stdout.write(
            f"RareDerm preflight: ready for production ({databases} with every migration, "
            "Redis, collected static files, settings and Django's deployment checklist)."
        )
