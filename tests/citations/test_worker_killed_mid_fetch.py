"""A whole worker killed mid-fetch (issue 11, item 7): real processes throughout.

Two `celery worker` processes and a `celery beat` on PostgreSQL and Redis,
the fake E-utilities server holding the first efetch without an answer. The
worker that took the batch is killed with SIGKILL, main process and pool
children at once (an OOM killer, a lost host), so no process is left to say
anything: its message stays unacknowledged in Redis until the visibility
timeout (21 minutes). The sweep, sent by beat on its own schedule, must see
the batch's heartbeat stop and hand it to the other worker, which stores
every PMID within RECOVERY_BOUND seconds of the kill.

`pytest tests/citations/test_worker_killed_mid_fetch.py -s` prints the
measured recovery time.
"""

import os
import re
import signal
import time

import pytest

from citations import actions
from citations.models import Citation, FetchJob

pytestmark = pytest.mark.django_db(transaction=True)

RECOVERY_BOUND = 60.0
BATCH_RECEIVED = re.compile(r"Task citations\.fetch_\w*batch\[[^\]]+\] received")


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = predicate()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout:g} s")


def test_a_worker_killed_mid_fetch_has_its_pmids_stored_by_another_within_a_minute(
    start_worker, start_beat, fake_eutils, postgres
):
    # The first efetch gets no answer for two minutes: the worker that sent it
    # is mid-fetch (long timeouts, so it would wait, not give up, before the kill).
    fake_eutils.stall_seconds = 120
    fake_eutils.inject("stall", times=1, endpoint="efetch")
    env = dict(fake_eutils.worker_env, ENTREZ_TIMEOUT="150", ENTREZ_DEADLINE="160")
    workers = [start_worker(name="w1", **env), start_worker(name="w2", **env)]
    beat = start_beat(**env)
    pmids = fake_eutils.recorded_pmids  # 9 PMIDs: one batch
    job = actions.request_fetch([str(p) for p in pmids], source="test")

    wait_until(lambda: fake_eutils.count("efetch") >= 1, 60, "the first efetch")
    fetching = wait_until(
        lambda: [w for w in workers if BATCH_RECEIVED.search(w.output())],
        10,
        "a worker holding the batch",
    )
    assert len(fetching) == 1, [w.output() for w in workers]
    victim = fetching[0]
    survivor = next(w for w in workers if w is not victim)

    os.killpg(victim.proc.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    victim.proc.wait(timeout=10)
    assert not BATCH_RECEIVED.search(survivor.output())

    wait_until(
        lambda: FetchJob.objects.get(pk=job.pk).state == FetchJob.State.DONE,
        RECOVERY_BOUND + 60,
        f"the job after the kill (survivor's log:\n{survivor.output()}\nbeat's log:\n"
        f"{beat.output()})",
    )
    recovered_after = time.monotonic() - killed_at
    print(f"\nrecovered {recovered_after:.1f} s after the worker was killed")

    assert recovered_after < RECOVERY_BOUND
    assert set(job.items.values_list("status", flat=True)) == {"new"}
    assert set(Citation.objects.values_list("pmid", flat=True)) == set(pmids)
    assert BATCH_RECEIVED.search(survivor.output())
    assert "succeeded" in survivor.output()
    # Sent by beat, not by the test.
    assert "citations.sweep_fetch_jobs" in beat.output()
    # Fetched again once, by the survivor: the stalled request and one more.
    assert fake_eutils.count("efetch") == 2
