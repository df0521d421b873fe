"""GET /healthz tells a load balancer and an operator what works."""

import json

from tests.conftest import run_python

PROBE = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
response = Client().get("/healthz")
print(json.dumps({"code": response.status_code, "body": response.json()}))
"""


def probe(script: str = PROBE, **env):
    """Run a probe script in an app started with the given environment; what it printed."""
    result = run_python(["-c", script], DJANGO_SETTINGS_MODULE="config.settings", **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_healthz_is_ok_with_the_embedded_defaults(db, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"]["status"] == "ok"
    assert set(body) >= {"status", "database", "broker", "workers"}


def test_healthz_answers_503_when_the_database_is_down():
    answer = probe(DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere", CELERY_BROKER_URL="")
    assert answer["code"] == 503
    assert answer["body"]["status"] == "down"
    assert answer["body"]["database"]["status"] == "down"


def test_healthz_stays_up_but_degraded_when_the_broker_is_down(tmp_path):
    answer = probe(
        DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    )
    assert answer["code"] == 200
    assert answer["body"]["status"] == "degraded"
    assert answer["body"]["broker"]["status"] == "down"
    assert answer["body"]["workers"]["status"] == "down"


def test_healthz_reports_no_worker_when_none_listens(redis_url, tmp_path):
    answer = probe(DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}", CELERY_BROKER_URL=redis_url)
    assert answer["code"] == 200
    assert answer["body"]["broker"]["status"] == "ok"
    assert answer["body"]["workers"]["status"] == "degraded"


def test_healthz_counts_a_running_worker_by_its_heartbeat(celery_worker, client, monkeypatch):
    from config.celery import app as celery_app

    def no_ping(*args, **kwargs):
        raise AssertionError("/healthz must not wait for worker pings")

    monkeypatch.setattr(celery_app.control, "ping", no_ping)
    body = client.get("/healthz").json()
    assert body["workers"]["status"] == "ok", json.dumps(body)
    assert body["workers"]["count"] == 1


def test_a_worker_that_stops_is_no_longer_counted(start_worker, client):
    worker = start_worker(name="stopping")
    assert client.get("/healthz").json()["workers"]["count"] == 1
    worker.proc.terminate()
    worker.proc.wait(timeout=30)
    body = client.get("/healthz").json()
    assert body["workers"] == {
        "status": "degraded",
        "detail": "no worker heartbeat in the last 30 s",
        "count": 0,
    }


AS_A_PROBE = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client()
health = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
page = client.get("/", HTTP_HOST="127.0.0.1:8000")
print(json.dumps({"health": health.status_code, "page": page.status_code}))
"""


def test_in_production_healthz_answers_a_probe_that_asks_by_address(tmp_path):
    # docker compose's health check asks http://127.0.0.1:8000/healthz inside the
    # container: 127.0.0.1 is not one of the site's ALLOWED_HOSTS, and must not be.
    answer = probe(
        AS_A_PROBE,
        DEBUG="false",
        SECRET_KEY="a-production-key-for-this-test-only-" + "x1y2z3" * 5,
        ALLOWED_HOSTS="rarederm.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'h.sqlite3'}",
        CELERY_BROKER_URL="",
    )
    assert answer["health"] == 200
    assert answer["page"] == 400  # every other page keeps the strict host check
