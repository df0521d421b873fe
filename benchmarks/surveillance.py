"""Surveillance: a weekly run of 50 saved PubMed searches finding 500 new records.

Through the fake E-utilities server at 10 requests/s and 2 real workers, as
beat starts it (the task citations.run_due_saved_searches queues each due
search). The searches find uneven numbers of new records, as real ones do:
one finds 230 (two efetch batches), a few tens, most a handful or none.

The cost bound (issue 16): each search costs one esearch (history server,
entry dates since its last run) plus ceil(n / 200) efetch requests for its n
new records, fetched from its own result set on the history server. So 50
searches that find 500 records cost at most 50 + sum(ceil(n_i / 200))
requests (80 with this mix), never one request per record; the records of
different searches are not pooled into shared efetch batches.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import time

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from benchmarks.common import Figure, child_env
from benchmarks.ingestion import BATCH, RATE, WALL_RATIO_TARGET, Workers, floors, storage_rate
from citations.models import SavedSearch, SavedSearchRun
from config.celery import app as celery_app
from config.celery import queue_task
from curation.management.commands.generate_synthetic import delete_synthetic

FIRST_PMID = 997_000_001  # in the reserved synthetic range, apart from ingestion's
LAST_PMID = 997_999_999
NAME_PREFIX = "bench surveillance "
# New records per saved search: 500 in all, over 50 searches.
NEW_RECORDS = [230, 60, 40, 30, 20] + [5] * 24 + [0] * 21


def request_bound(found: list[int]) -> int:
    """One esearch per search plus its efetch batches."""
    return len(found) + sum(math.ceil(n / BATCH) for n in found)


def _clean() -> None:
    from screening.models import Candidate

    SavedSearch.objects.filter(name__startswith=NAME_PREFIX).delete()
    Candidate.objects.filter(pmid__gte=FIRST_PMID, pmid__lte=LAST_PMID).delete()
    delete_synthetic(FIRST_PMID, LAST_PMID)


def _searches(fake) -> list[SavedSearch]:
    """The 50 saved searches, each last run a week ago, and what PubMed added since."""
    today = timezone.now().date()
    week_ago = today - dt.timedelta(days=7)
    entered = today.strftime("%Y/%m/%d")
    next_pmid = FIRST_PMID
    searches = []
    for number, count in enumerate(NEW_RECORDS, start=1):
        query = f'"bench topic {number}"[tiab] AND (skin[tiab] OR cutaneous[tiab])'
        pmids = fake.add_synthetic(count, first_pmid=next_pmid) if count else []
        next_pmid += count
        # What the previous run saw (entered before it) and what is new this week.
        fake.add_search(query, {**dict.fromkeys(pmids, entered), 1: "2001/01/01"})
        searches.append(
            SavedSearch.objects.create(
                name=f"{NAME_PREFIX}{number:02d}",
                query=query,
                schedule=SavedSearch.Schedule.WEEKLY,
                enabled=True,
                covered_until=week_ago,
                last_run_at=timezone.now() - dt.timedelta(days=7, minutes=1),
            )
        )
    return searches


def run(*, workers: int = 2, timeout: float = 300) -> list[Figure]:
    from tests.fake_eutils import FakeEutils

    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise RuntimeError("surveillance needs Redis: set CELERY_BROKER_URL=redis://...")
    _clean()  # what an interrupted run left
    fake = FakeEutils(rate_limit=RATE).start()
    try:
        store_rate = storage_rate(fake, 200)
        searches = _searches(fake)
        ids = [search.pk for search in searches]
        env = child_env(
            ENTREZ_BASE_URL=fake.url,
            ENTREZ_RATE_LIMIT=RATE,
            ENTREZ_TIMEOUT=30,
            ENTREZ_BACKOFF=0.5,
            LOG_LEVEL="WARNING",
        )
        pool = Workers(workers, env)
        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = False  # the workers run it, never this process
        try:
            pool.wait_ready()
            fake.reset_counts()
            started = time.perf_counter()
            queue_task("citations.run_due_saved_searches")  # as beat does, hourly
            finished_runs = SavedSearchRun.objects.filter(search__in=ids).exclude(
                state=SavedSearchRun.State.RUNNING
            )
            deadline = time.monotonic() + timeout
            while finished_runs.count() < len(ids) and time.monotonic() < deadline:
                time.sleep(0.1)
            wall = time.perf_counter() - started
        finally:
            celery_app.conf.task_always_eager = eager
            pool.stop()
        runs = SavedSearchRun.objects.filter(search__in=ids)
        done = runs.filter(state=SavedSearchRun.State.DONE).count()
        added = runs.aggregate(n=Sum("added"))["n"] or 0
        esearch, efetch = fake.count("esearch"), fake.count("efetch")
        requests = fake.count()
        too_many = sum(1 for r in fake.requests if r.status == 429)
    finally:
        fake.stop()
        _clean()

    wanted = sum(NEW_RECORDS)
    bound = request_bound(NEW_RECORDS)
    bounds = floors(
        requests=requests,
        stored=added,
        store_rate=store_rate,
        workers=workers,
        cpus=os.cpu_count() or 1,
    )
    return [
        Figure(
            "surveillance",
            f"saved searches run ({workers} workers)",
            done,
            "",
            f"= {len(NEW_RECORDS)}",
            done == len(NEW_RECORDS),
            "" if done == len(NEW_RECORDS) else f"{len(ids) - done} not done in {timeout:.0f} s",
        ),
        Figure("surveillance", "new records stored", added, "", f"= {wanted}", added == wanted),
        Figure(
            "surveillance",
            "requests sent",
            requests,
            "",
            f"≤ {bound}",
            requests <= bound,
            f"{esearch} esearch + {efetch} efetch; bound = {len(NEW_RECORDS)} esearch "
            f"+ sum of ceil(n/{BATCH}) per search; {too_many} answered 429",
        ),
        Figure(
            "surveillance",
            "wall time / larger floor",
            wall / bounds["floor_s"],
            "x",
            f"≤ {WALL_RATIO_TARGET:g}",
            wall <= WALL_RATIO_TARGET * bounds["floor_s"],
            f"{wall:.1f} s; bound by {bounds['bound']}: rate-limit floor "
            f"{bounds['rate_limit_floor_s']:.1f} s = {requests} requests / {RATE:g} per s; "
            f"CPU floor {bounds['cpu_floor_s']:.1f} s",
            extra=bounds,
        ),
    ]
