"""The Celery application. Settings come from Django's (CELERY_ namespace)."""

import logging
import os

from celery import Celery, bootsteps

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("rarederm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Tell /healthz this worker is alive: a Redis key refreshed every few seconds.

    /healthz reads the keys instead of pinging the workers (a ping waits for
    answers); a worker that dies stops refreshing its key, which expires.
    """

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.timer_ref = None

    def start(self, worker):
        from config import health

        self._beat(worker)
        self.timer_ref = worker.timer.call_repeatedly(
            health.HEARTBEAT_SECONDS, self._beat, (worker,), priority=10
        )

    def stop(self, worker):
        from config import health

        if self.timer_ref is not None:
            self.timer_ref.cancel()
            self.timer_ref = None
        try:
            health.forget_worker(worker.hostname)
        except Exception:  # Redis gone: the key expires by itself
            logging.getLogger(__name__).warning("could not remove the worker's heartbeat key")

    def _beat(self, worker):
        from django.conf import settings

        from config import health

        if not settings.REDIS_URL:
            return
        try:
            health.mark_worker_alive(worker.hostname)
        except Exception as exc:
            logging.getLogger(__name__).warning("worker heartbeat not written: %s", exc)


app.steps["worker"].add(WorkerHeartbeat)


def queue_task(name: str, *args):
    """Queue the task registered as `name` with these (JSON-safe) arguments.

    By name, so that a module queuing a task need not import the module that
    defines it (and imports it back: citations.actions -> citations.tasks ->
    citations.actions). The task is taken from the app's registry and queued
    with its own delay(): run here when there is no broker (eager), sent with
    its own options otherwise. A process that has not imported the tasks
    modules yet (a web process) imports them on the first call.
    """
    try:
        task = app.tasks[name]
    except KeyError:
        app.autodiscover_tasks(force=True)
        task = app.tasks[name]  # NotRegistered (a KeyError) for a name no app defines
    return task.delay(*args)


def queue_after_commit(name: str, *args) -> None:
    """Queue the task `name` once the current transaction commits (at once outside one).

    For work that may be asked for again (a paper's links, candidates' records, a
    refresh run): a broker that refuses the message is logged, not raised, so the
    request or task that committed the data still succeeds. Work that must not be
    lost has its own sweep instead (the outbox, figures, fetch jobs).
    """
    from django.db import transaction

    def send():
        try:
            queue_task(name, *args)
        except Exception:
            logging.getLogger(__name__).exception(
                "could not queue %s%r: the broker did not take it", name, args
            )

    transaction.on_commit(send)
