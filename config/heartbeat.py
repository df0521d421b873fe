"""A heartbeat for long work: a thread refreshes a row's timestamp while the work runs.

A Celery task that fetches for minutes (ENTREZ_MAX_TRIES x ENTREZ_DEADLINE
seconds in one request, at worst) cannot say it is alive between steps, so a
thread does, every `every` seconds, with an UPDATE of the rows the queryset
selects. The queryset names the claim (`run_token=...`): when it selects
nothing any more, the work was handed to someone else, `lost` becomes true
and the thread stops beating.

Work running inside an open transaction (a test, a caller's atomic block) is
invisible to other connections, so nobody could read its heartbeat: no
thread is started then.
"""

from __future__ import annotations

import logging
import threading

from django.db import DatabaseError, connection, connections
from django.utils import timezone

logger = logging.getLogger(__name__)


class Heartbeat:
    def __init__(self, queryset, *, every: float, field: str = "heartbeat_at"):
        self.queryset = queryset
        self.every = every
        self.field = field
        self.lost = False
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if not connection.in_atomic_block:
            self._thread = threading.Thread(
                target=self._run, name=f"heartbeat-{self.queryset.model.__name__}", daemon=True
            )
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(self.every, 5.0))

    def _run(self) -> None:
        try:
            while not self._stop.wait(self.every):
                try:
                    updated = self.queryset.update(**{self.field: timezone.now()})
                except DatabaseError as exc:
                    # The database is away for a moment: try again next beat.
                    logger.warning("heartbeat not written: %s", exc)
                    connection.close_if_unusable_or_obsolete()
                    continue
                if not updated:
                    self.lost = True
                    return
                self.beats += 1
        finally:
            # This thread's own connection, not the worker's.
            connections.close_all()
