"""A real Celery worker process takes tasks from Redis and writes to PostgreSQL."""

import time

from django.contrib.auth.models import Group

from config.celery import app as celery_app


def test_a_task_sent_through_the_broker_is_run_by_a_worker_and_lands_in_postgres(celery_worker):
    celery_app.send_task("tests.create_group", args=["probe-from-worker"])

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if Group.objects.filter(name="probe-from-worker").exists():
            break
        time.sleep(0.2)
    assert Group.objects.filter(name="probe-from-worker").exists(), celery_worker.output()
    assert "tests.create_group" in celery_worker.output()


def test_celery_is_configured_for_safe_redelivery():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_soft_time_limit < conf.task_time_limit
