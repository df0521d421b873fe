"""The production stack of the check, started from README's commands.

Every command of README's "Without Docker" block is run as written, with the
check's own values in place of the examples (`SUBSTITUTIONS`): ports the
system chose, a database and Redis number of its own, a certificate made here,
folders under a temporary directory. Long-running commands (gunicorn, the
worker, beat) are started twice; the nginx reload at the end is replaced by
this check's own nginx, whose main configuration includes the rendered
server block as Debian's includes conf.d/*.conf.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import dj_database_url
import psycopg2
import redis

from tests.conftest import ROOT
from tests.deployment import CHECKED_COMMANDS, readme_commands, settings_read_by_app

PROD_VENV = ROOT / ".venv-prod"
PASSWORD = "a production check passphrase 7"  # the check's users, this stack only
TOOLS = ("nginx", "openssl", "envsubst", "pg_dump", "pg_restore", "psql", "createdb", "make")


def which(tool: str) -> str | None:
    return shutil.which(tool) or shutil.which(tool, path="/usr/sbin:/usr/bin:/sbin:/bin")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}):\n{log.read_text()[-4000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    output = log.read_text()[-4000:]
    raise AssertionError(f"nothing listens on {port} after {seconds} s:\n{output}")


def wait_for_text(text: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"exited early ({proc.returncode}):\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not logged after {seconds} s:\n{log.read_text()[-4000:]}")


@dataclass
class Service:
    name: str
    command: str
    proc: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Databases:
    """The check's own PostgreSQL databases, beside (never instead of) the suite's."""

    url: str  # of the suite's DATABASE_URL: its server and user

    def __post_init__(self):
        config = dj_database_url.parse(self.url)
        self.server = {
            "host": config["HOST"] or "127.0.0.1",
            "port": config["PORT"] or 5432,
            "user": config["USER"],
            "password": config["PASSWORD"] or None,
        }
        self.name = f"{config['NAME']}_prodcheck"
        self.replica = f"{self.name}_replica"

    def url_of(self, name: str) -> str:
        password = self.server["password"]
        auth = self.server["user"] + (f":{password}" if password else "")
        return f"postgres://{auth}@{self.server['host']}:{self.server['port']}/{name}"

    def admin(self, sql: str, *params) -> list[tuple]:
        return self.query("postgres", sql, *params)

    def query(self, name: str, sql: str, *params) -> list[tuple]:
        connection = psycopg2.connect(dbname=name, **self.server)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def drop(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def create(self, name: str, template: str | None = None) -> None:
        self.drop(name)
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))


@dataclass
class Stack:
    """Ports, folders, environment and processes of one production check."""

    root: Path
    databases: Databases
    broker_url: str
    redis_prefix: str  # every key of the stack's in Redis starts with it
    eutils_url: str
    smtp_port: int
    web_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    services: list[Service] = field(default_factory=list)
    ran: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)

    def __post_init__(self):
        for folder in ("data", "logs", "tls", "nginx/conf.d"):
            (self.root / folder).mkdir(parents=True, exist_ok=True)
        # nginx's workers (www-data when it starts as root) write buffered bodies
        # here: a folder they can reach (pytest's own are private to root).
        self.nginx_temp = Path(tempfile.mkdtemp(prefix="rarederm-nginx-"))
        self.nginx_temp.chmod(0o777)
        self.site_url = f"https://localhost:{self.https_port}"
        self.env = self._environment()

    # -- what README's examples become here ------------------------------------

    @property
    def substitutions(self) -> list[tuple[str, str]]:
        return [
            ("127.0.0.1:8000", f"127.0.0.1:{self.web_port}"),
            ("RAREDERM_HTTP_LISTEN=80 ", f"RAREDERM_HTTP_LISTEN=127.0.0.1:{self.http_port} "),
            ("RAREDERM_HTTPS_LISTEN=443 ", f"RAREDERM_HTTPS_LISTEN=127.0.0.1:{self.https_port} "),
            ("/etc/ssl/rarederm/", f"{self.root}/tls/"),
            ("/etc/nginx/conf.d/", f"{self.root}/nginx/conf.d/"),
        ]

    def localise(self, command: str) -> str:
        for example, here in self.substitutions:
            command = command.replace(example, here)
        return command

    def _environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in settings_read_by_app()
            and not k.startswith(("PYTEST", "MAKE", "MFLAGS", "DJANGO_"))
        }
        env.update(
            DEBUG="false",
            SECRET_KEY=secrets.token_urlsafe(50),
            ALLOWED_HOSTS="localhost",
            SITE_URL=self.site_url,
            SECURE_PROXY_SSL_HEADER="true",
            FORWARDED_FOR_PROXIES="1",
            DATABASE_URL=self.databases.url_of(self.databases.name),
            CELERY_BROKER_URL=self.broker_url,
            REDIS_KEY_PREFIX=self.redis_prefix,
            ENTREZ_EMAIL="production-check@rarederm.test",
            DEFAULT_FROM_EMAIL="RareDerm <rarederm@rarederm.test>",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.smtp_port),
            EMAIL_USE_TLS="false",
            # The fake NCBI server; one PMID per request and a low rate limit, so
            # that two workers must share the limiter to keep to it.
            ENTREZ_BASE_URL=self.eutils_url,
            ENTREZ_TIMEOUT="2",
            ENTREZ_BACKOFF="0.05",
            ENTREZ_MAX_TRIES="3",
            ENTREZ_BATCH_SIZE="1",
            ENTREZ_RATE_LIMIT="4",
            DATA_DIR=str(self.root / "data"),
            WEB_CONCURRENCY="2",
        )
        return env

    # -- running README's commands ---------------------------------------------

    def run(self, command: str, *, stdin: str | None = None, **env) -> subprocess.CompletedProcess:
        """A one-shot command; its result is kept in `ran` (by the command as README gives it)."""
        result = subprocess.run(
            ["bash", "-c", self.localise(command)],
            cwd=ROOT,
            env={**self.env, **env},
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )
        self.ran[command] = result
        return result

    def must(self, command: str, **kwargs) -> subprocess.CompletedProcess:
        result = self.run(command, **kwargs)
        output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        assert result.returncode == 0, f"{command}\n{output}"
        return result

    def start(self, name: str, command: str, **env) -> Service:
        log = self.root / "logs" / f"{name}.log"
        handle = log.open("w")
        proc = subprocess.Popen(
            ["bash", "-c", "exec " + self.localise(command)],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        handle.close()
        service = Service(name, command, proc, log)
        self.services.append(service)
        return service

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    def forget_redis_keys(self) -> None:
        """Delete the stack's keys (its prefix's) from the broker's Redis, and no other."""
        client = redis.Redis.from_url(self.broker_url)
        keys = list(client.scan_iter(match=f"{self.redis_prefix}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])

    def stop(self) -> None:
        for service in reversed(self.services):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(service.proc.pid, signal.SIGTERM)
        for service in reversed(self.services):
            try:
                service.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(service.proc.pid, signal.SIGKILL)
                service.proc.wait()
        shutil.rmtree(self.nginx_temp, ignore_errors=True)

    # -- the parts README leaves to the operator ---------------------------------

    def make_certificate(self) -> Path:
        """A self-signed certificate for localhost, where README's example has the site's."""
        tls = self.root / "tls"
        subprocess.run(
            [
                which("openssl"),
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
                "-keyout",
                str(tls / "privkey.pem"),
                "-out",
                str(tls / "fullchain.pem"),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )
        return tls / "fullchain.pem"

    def nginx_main_config(self) -> Path:
        """nginx's main configuration: Debian's shape (http { include conf.d/*.conf; })."""
        nginx = self.root / "nginx"
        temp = self.nginx_temp
        user = "user www-data;\n" if os.geteuid() == 0 else ""
        paths = "\n".join(
            f"    {kind}_temp_path {temp}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        config = nginx / "nginx.conf"
        config.write_text(
            f"{user}daemon off;\nworker_processes 1;\npid {nginx}/nginx.pid;\n"
            f"error_log {nginx}/error.log info;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            f"    access_log {nginx}/access.log;\n{paths}\n"
            f"    include {nginx}/conf.d/*.conf;\n"
            "}\n"
        )
        return config

    def nginx(self, *args: str) -> list[str]:
        nginx = self.root / "nginx"
        return [
            which("nginx"),
            "-p",
            str(nginx),
            "-e",
            str(nginx / "error.log"),
            "-c",
            str(self.nginx_main_config()),
            *args,
        ]


def readme() -> list[str]:
    return readme_commands(CHECKED_COMMANDS)
