"""A serving process freezes its long-lived objects after its first request
(config/gcfreeze.py), so Python's full collections stop scanning them."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent

# A process as gunicorn makes it: the WSGI application, then requests.
SERVING = """
import gc
from config.wsgi import application
from django.test import Client
assert gc.get_freeze_count() == 0, "frozen before any request"
Client().get("/healthz")
frozen = gc.get_freeze_count()
Client().get("/healthz")
print(frozen, gc.get_freeze_count())
"""

# A process that never loads the WSGI application (a test run, a Celery worker).
NOT_SERVING = """
import gc
import django
django.setup()
from django.test import Client
Client().get("/healthz")
print(gc.get_freeze_count())
"""


def run(script: str) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)}
    env.pop("DATABASE_URL", None)  # the embedded SQLite: /healthz needs no row
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_a_serving_process_freezes_its_long_lived_objects_once_after_its_first_request():
    frozen, later = map(int, run(SERVING))
    assert frozen > 50_000  # Django, the app and the first page's templates
    # Once: what comes later is collected as usual (frozen objects dropped since are
    # freed by their reference count, so the count may only go down).
    assert later <= frozen


def test_a_process_that_serves_no_page_freezes_nothing():
    assert run(NOT_SERVING) == ["0"]
