"""`make bench`: RareDerm measured at registry scale, against the limits of its own stack.

    DATABASE_URL=postgres://... CELERY_BROKER_URL=redis://... make bench
    python -m benchmarks.run [--json] [--quick] [--only web,ingestion,surveillance,import]

Needs PostgreSQL and Redis, and a database of its own: it fills it with
synthetic cases (manage.py generate_synthetic; reused by later runs) and
removes what else it adds, then runs VACUUM (ANALYZE) and reports the
server's settings (autovacuum, work_mem, shared_buffers, ...) with the figures.
Prints a table, or JSON with --json. Exits 1 if a target is missed, 2 if the
run could not be made.

1. web: gunicorn (2 sync workers, DEBUG off) serving the synthetic registry,
   a load generator in its own process; p50/p95/requests per second per page
   and the p50 as a multiple of a baseline view's (one primary-key query).
2. ingestion: PMIDs fetched through the fake E-utilities server at 10
   requests/s by 2 celery worker processes, against the rate limit and
   Entrez.read's own parse speed.
3. surveillance: a weekly run of 50 saved PubMed searches finding 500 new
   records, queued as beat queues it, on 2 workers through the same fake
   server: requests against the bound (one esearch per search plus its efetch
   batches of 200) and wall time against the rate-limit floor.
4. file import: a baseline-style .xml.gz through import_pubmed_xml: rate and
   peak memory.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import sys
import time
import traceback
from dataclasses import asdict

import django

SECTIONS = ("web", "ingestion", "surveillance", "import")
FULL = {
    "cases": 100_000,
    "pmids": 10_000,
    "storage_sample": 1_000,
    "articles": 30_000,
    "rounds": 3,
    "requests": 40,
    "seconds": 6.0,
}
QUICK = {
    "cases": 300,
    "pmids": 400,
    "storage_sample": 200,
    "articles": 300,
    "rounds": 1,
    "requests": 6,
    "seconds": 5.0,
}


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: checks the harness")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help="web,ingestion,surveillance,import"
    )
    for name, default in FULL.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=None)
    parser.add_argument("--seed", type=int, default=1, help="generate_synthetic's seed")
    parser.add_argument(
        "--workers", type=int, default=2, help="celery worker processes of the ingestion run"
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    for name, default in sizes.items():
        if getattr(args, name) is None:
            setattr(args, name, default)
    if not 1 <= args.workers <= 16:
        parser.error(f"--workers {args.workers}: between 1 and 16 worker processes")
    args.only = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}: choose from {', '.join(SECTIONS)}")
    return args


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                cpu,
            )
        with open("/proc/meminfo") as info:
            mem_kb = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
    except OSError:
        mem_kb = 0
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024**2, 1),
        "python": platform.python_version(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def check_services() -> str | None:
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        return "needs PostgreSQL: set DATABASE_URL=postgres://... (a database of its own)"
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return "needs Redis: set CELERY_BROKER_URL=redis://..."
    return None


def ensure_registry(cases: int, seed: int):
    """The synthetic registry of `cases` published cases: reused if present, else made."""
    from benchmarks.common import Figure
    from curation.management.commands.generate_synthetic import (
        delete_synthetic,
        generate,
        synthetic_cases,
    )

    present = synthetic_cases().count()
    if present == cases:
        return Figure("registry", "synthetic cases (generated earlier, reused)", present, "")
    delete_synthetic()
    started = time.perf_counter()
    written = generate(cases, -(-cases // 2), seed)
    elapsed = time.perf_counter() - started
    return Figure(
        "registry",
        f"generate_synthetic --cases {cases:,}",
        elapsed,
        "s",
        note=f"{written['cases'] / elapsed:.0f} cases/s; {written['ihc']:,} IHC results, "
        f"{written['fusions']:,} fusions, {written['citations']:,} citations",
    )


def vacuum_analyze() -> None:
    """VACUUM (ANALYZE): the state autovacuum keeps a live registry in.

    The machine's PostgreSQL may run with autovacuum off: after a bulk insert
    the visibility map is empty (no index-only scans) and the planner has no
    statistics, and the figures would be those of a server nobody runs.
    VACUUM cannot run inside a transaction: Django's autocommit is relied on.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


# The server settings the figures depend on, reported with them.
SERVER_SETTINGS = (
    "server_version",
    "autovacuum",
    "work_mem",
    "shared_buffers",
    "effective_cache_size",
    "maintenance_work_mem",
    "random_page_cost",
    "max_parallel_workers_per_gather",
)


def server_settings() -> dict:
    """The PostgreSQL settings of SERVER_SETTINGS, as the server reports them (SHOW)."""
    from django.db import connection

    found = {}
    with connection.cursor() as cursor:
        for name in SERVER_SETTINGS:
            cursor.execute(f"SHOW {name}")
            found[name] = cursor.fetchone()[0]
    return found


def measure(args) -> list:
    from django.conf import settings
    from django.core.management import call_command

    from benchmarks import fileimport, ingestion, surveillance, web
    from benchmarks.common import Figure

    # This process's own queries are not worth keeping (DEBUG would log each).
    settings.DEBUG = False
    call_command("migrate", verbosity=0, interactive=False)

    def web_part():
        made = ensure_registry(args.cases, args.seed)
        vacuum_analyze()
        return [
            made,
            *web.run(
                rounds=args.rounds,
                requests=args.requests,
                seconds=args.seconds,
                cases=args.cases,
            ),
        ]

    parts = {
        "web": web_part,
        "ingestion": lambda: ingestion.run(
            pmids=args.pmids,
            storage_sample=args.storage_sample,
            workers=args.workers,
            timeout=120 if args.quick else 600,
        ),
        "surveillance": lambda: surveillance.run(timeout=120 if args.quick else 300),
        "import": lambda: fileimport.run(articles=args.articles),
    }
    figures = []
    for name in args.only:
        try:
            figures += parts[name]()
        except Exception as exc:
            # One part failing must not cost the figures of the others.
            traceback.print_exc()
            figures.append(Figure(name, "failed", None, ok=False, note=f"{exc!r}"[:500]))
    return figures


def _fmt(value, digits=1) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return f"{value:,}"


def _mark(ok) -> str:
    return {True: "yes", False: "NO", None: ""}[ok]


def table(report: dict) -> str:
    lines = []
    m = report["machine"]
    lines.append(
        f"RareDerm benchmark, {report['date']}: {m['cpus']} CPUs ({m['cpu']}), "
        f"{m['memory_gib']} GiB, Python {m['python']}, load {m['load_average_at_start']}"
    )
    lines.append(f"command: {report['command']}  ({report['seconds']:.0f} s)")
    if report.get("postgres"):
        lines.append(
            "PostgreSQL settings: "
            + ", ".join(f"{name} {value}" for name, value in report["postgres"].items())
        )
    if report.get("logs"):
        lines.append(f"logs of the child processes: {report['logs']}")
    web = [f for f in report["figures"] if f["section"] == "web"]
    if web:
        lines += [
            "",
            "| page | p50 ms | p95 ms | req/s | p50 / baseline | target met |",
            "|---|---:|---:|---:|---:|:---:|",
        ]
        for f in web:
            x = f["extra"]
            if f["value"] is None:
                lines.append(f"| {f['name']} | - | - | - | - | {f['note']} |")
                continue
            lines.append(
                f"| {f['name']} | {_fmt(x['p50_ms'])} | {_fmt(x['p95_ms'])} | "
                f"{_fmt(x['requests_per_s'])} | {_fmt(x['ratio_p50_to_baseline'], 2)}x | "
                f"{_mark(f['ok'])}{' ' + f['note'] if f['note'] else ''} |"
            )
        lines.append(
            "Targets: p50 ≤ 4x the baseline's p50, p95 ≤ 150 ms; cold rows p95 ≤ 300 ms "
            "(unfiltered pages 150 ms; at 1,000,000 cases or more, 1 s). "
            f"{web[0]['extra'].get('requests', 0)} requests per page."
            if web[0]["value"] is not None
            else ""
        )
    others = [f for f in report["figures"] if f["section"] != "web"]
    if others:
        lines += [
            "",
            "| part | measure | value | target | met | note |",
            "|---|---|---:|---|:---:|---|",
        ]
        for f in others:
            digits = 2 if f["unit"] == "x" else 1
            value = f"{_fmt(f['value'], digits)} {f['unit']}".strip()
            lines.append(
                f"| {f['section']} | {f['name']} | {value} | {f['target']} | "
                f"{_mark(f['ok'])} | {f['note']} |"
            )
    return "\n".join(lines)


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()
    problem = check_services()
    if problem:
        print(f"make bench {problem}", file=sys.stderr)
        return 2
    started = time.monotonic()
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "command": "python -m benchmarks.run "
        + shlex.join(sys.argv[1:] if argv is None else argv),
        "figures": [],
    }
    report["postgres"] = server_settings()
    report["figures"] = [asdict(f) for f in measure(args)]
    report["seconds"] = time.monotonic() - started
    from benchmarks.common import log_dir

    report["logs"] = str(log_dir())
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        print(table(report))
    missed = [f["name"] for f in report["figures"] if f["ok"] is False]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
