"""Celery beat: however many are started, the deployment sends each periodic task once."""

import time

import pytest
import redis
from celery import Celery

from config import beat


@pytest.fixture
def probe_app(redis_url):
    app = Celery("beat-probe", broker=redis_url)
    app.conf.beat_schedule = {"probe": {"task": "tests.probe", "schedule": 0.05}}
    redis.Redis.from_url(redis_url).delete(beat.lock_key())
    yield app
    redis.Redis.from_url(redis_url).delete(beat.lock_key())


class RecordingScheduler(beat.SingletonScheduler):
    """The real scheduler; what it would send is recorded instead of sent."""

    def apply_async(self, entry, producer=None, advance=True, **kwargs):
        self.sent.append(entry.name)
        if advance:
            self.schedule[entry.name] = self.reserve(entry)


def start(app, tmp_path, name):
    scheduler = RecordingScheduler(app, schedule_filename=str(tmp_path / name))
    scheduler.sent = []
    return scheduler


def run_both(first, second, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        first.tick()
        second.tick()
        time.sleep(0.06)


def test_two_beats_send_a_periodic_task_from_one_of_them_only(probe_app, tmp_path):
    first, second = start(probe_app, tmp_path, "a"), start(probe_app, tmp_path, "b")
    try:
        run_both(first, second, 1.0)
        assert first.sent.count("probe") >= 5
        assert second.sent == []
        assert first.holding and not second.holding
    finally:
        first.close()
        second.close()


def test_a_standby_beat_takes_over_when_the_holder_stops(probe_app, tmp_path):
    first, second = start(probe_app, tmp_path, "a"), start(probe_app, tmp_path, "b")
    try:
        run_both(first, second, 0.3)
        first.close()  # gives the lock back
        before = len(first.sent)
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline and not second.sent:
            second.tick()
            time.sleep(0.06)
        assert second.sent, "the standby beat never took over"
        assert len(first.sent) == before
    finally:
        second.close()


def test_a_holder_that_lost_its_lock_stops_sending(probe_app, tmp_path, redis_url):
    first = start(probe_app, tmp_path, "a")
    try:
        first.tick()
        assert first.holding
        # Its lock expired (the beat was stalled past LOCK_TTL) and another beat took it.
        redis.Redis.from_url(redis_url).set(beat.lock_key(), "another beat", px=60_000)
        first.sent.clear()
        first.tick()
        assert first.sent == []
        assert not first.holding
    finally:
        first.close()
    assert redis.Redis.from_url(redis_url).get(beat.lock_key()) == b"another beat"


def test_the_deployment_uses_the_singleton_scheduler():
    from config.celery import app

    assert app.conf.beat_scheduler == "config.beat:SingletonScheduler"
