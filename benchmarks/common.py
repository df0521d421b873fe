"""What every part of the benchmark shares: child processes' environment, statistics."""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class Figure:
    """One line of the results table."""

    section: str
    name: str
    value: float | None
    unit: str = ""
    target: str = ""
    ok: bool | None = None  # None: no target, or not measured
    note: str = ""
    extra: dict = field(default_factory=dict)


def database_url() -> str:
    """The URL of the database this process uses, for the child processes."""
    db = connection.settings_dict
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}{host}:{db.get('PORT') or 5432}/{db['NAME']}"


def bench_data_dir() -> Path:
    path = Path(settings.DATA_DIR) / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


_LOGS: list[Path] = []


def log_dir() -> Path:
    """This run's own folder for child processes' logs (runs may overlap: a test suite)."""
    if not _LOGS:
        _LOGS.append(Path(tempfile.mkdtemp(prefix="rarederm-bench-")))
    return _LOGS[0]


def child_env(**extra) -> dict[str, str]:
    """A production-like environment (DEBUG off) on this run's database and Redis."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        # Plain HTTP on 127.0.0.1: no TLS proxy in front of the benchmark.
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
        DATA_DIR=str(bench_data_dir()),
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0-100), interpolated; None for no values."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]
