"""Ingestion: N PMIDs through the fake E-utilities server (10 requests/s) and 2 real workers.

Measured in the same run, on the same XML (recorded PubMed articles renumbered
into the reserved synthetic range from 990,000,001):

- raw parse: Entrez.read on each efetch answer of 200 articles, one process;
- storage: what a worker does with an answer (parse, sanitise, store the
  batch in one transaction), one process, on a part of the answers;
- end to end: one fetch request for the N PMIDs, as the bulk-import page
  makes it, run by two real `celery worker` processes.
"""

from __future__ import annotations

import io
import math
import os
import subprocess
import time

from Bio import Entrez
from django.conf import settings
from django.db.models import Count

from benchmarks.common import BIN, ROOT, Figure, child_env, log_dir
from citations import actions, pubmed
from citations.models import FetchJob, FetchJobItem
from config.celery import app as celery_app
from curation.management.commands.generate_synthetic import delete_synthetic

FIRST_PMID = 990_000_001
LAST_PMID = 999_999_999
STORAGE_PMID_OFFSET = 5_000_000  # the in-process storage sample: 995,000,001+
RATE = 10.0
BATCH = 200
WALL_RATIO_TARGET = 1.3
THROUGHPUT_RATIO_TARGET = 0.5


def floors(*, requests: int, stored: int, store_rate: float, workers: int, cpus: int) -> dict:
    """The two lower bounds of a fetch job's wall time, and which one binds.

    rate limit: every request waits its turn at RATE per second; CPU: the
    storage work (measured in one process) shared by the workers, but by no
    more of them than there are cores (which PostgreSQL and the fake server
    share too, so this floor is optimistic).
    """
    rate_floor = max(requests, 1) / RATE
    parallel = max(1, min(workers, cpus))
    cpu_floor = stored / store_rate / parallel
    bound = "rate limit" if rate_floor >= cpu_floor else "CPU"
    return {
        "rate_limit_floor_s": rate_floor,
        "cpu_floor_s": cpu_floor,
        "parallel": parallel,
        "floor_s": max(rate_floor, cpu_floor),
        "bound": bound,
    }


def documents(fake, pmids: list[int]) -> list[bytes]:
    return [fake.document(pmids[i : i + BATCH]) for i in range(0, len(pmids), BATCH)]


def raw_parse_rate(docs: list[bytes], articles: int) -> float:
    started = time.perf_counter()
    for doc in docs:
        Entrez.read(io.BytesIO(doc))
    return articles / (time.perf_counter() - started)


def storage_rate(fake, count: int) -> float:
    """Articles/s of parse + store in this process (what one worker does per batch)."""
    first = FIRST_PMID + STORAGE_PMID_OFFSET
    pmids = fake.add_synthetic(count, first_pmid=first)
    docs = documents(fake, pmids)
    started = time.perf_counter()
    stored = 0
    for doc in docs:
        # What a worker does with one efetch answer: parse it, store it in one
        # transaction.
        outcomes = actions.store_articles(pubmed.parse_pubmed_xml(doc))
        stored += sum(1 for outcome in outcomes.values() if not outcome.error)
    elapsed = time.perf_counter() - started
    delete_synthetic(first, first + count - 1)
    assert stored == count, f"stored {stored} of {count}"
    return count / elapsed


class Workers:
    def __init__(self, count: int, env: dict):
        self.procs, self.logs = [], []
        for n in range(count):
            log = log_dir() / f"celery-w{n + 1}.log"
            handle = log.open("w")
            self.logs.append(log)
            self.procs.append(
                (
                    subprocess.Popen(
                        [
                            str(BIN / "celery"),
                            "-A",
                            "config",
                            "worker",
                            "--loglevel=INFO",
                            "--concurrency=1",
                            "--pool=prefork",
                            f"--hostname=bench{n + 1}@%h",
                            "--without-gossip",
                            "--without-mingle",
                        ],
                        cwd=ROOT,
                        env=env,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    ),
                    handle,
                )
            )

    def wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        for (proc, _), log in zip(self.procs, self.logs, strict=True):
            while "ready." not in log.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"celery worker did not start: see {log}")
                time.sleep(0.2)

    def stop(self) -> None:
        for proc, _ in self.procs:
            proc.terminate()
        for proc, handle in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            handle.close()


def run(
    *, pmids: int, storage_sample: int, workers: int = 2, timeout: float = 300
) -> list[Figure]:
    from tests.fake_eutils import FakeEutils

    if not settings.CELERY_BROKER_URL.startswith("redis"):
        raise RuntimeError("ingestion needs Redis: set CELERY_BROKER_URL=redis://...")
    delete_synthetic(FIRST_PMID, LAST_PMID)  # what an interrupted run left
    fake = FakeEutils(rate_limit=RATE).start()
    try:
        ids = fake.add_synthetic(pmids, first_pmid=FIRST_PMID)
        # Rendered here, and kept by the fake: its answers then cost the timed run no
        # CPU (5 s of a core for 10,000 articles), as NCBI's cost this machine none.
        docs = documents(fake, ids)
        parse_rate = raw_parse_rate(docs, pmids)
        store_rate = storage_rate(fake, min(storage_sample, pmids))
        del docs

        env = child_env(
            ENTREZ_BASE_URL=fake.url,
            ENTREZ_RATE_LIMIT=RATE,
            ENTREZ_TIMEOUT=30,
            ENTREZ_BACKOFF=0.5,
            LOG_LEVEL="WARNING",
        )
        pool = Workers(workers, env)
        eager = celery_app.conf.task_always_eager
        # The workers run the job, never this process (a test suite sets eager mode).
        celery_app.conf.task_always_eager = False
        try:
            pool.wait_ready()
            fake.reset_counts()
            started = time.perf_counter()
            job = actions.request_fetch([str(p) for p in ids], source="benchmark")
            deadline = time.monotonic() + timeout
            finished = True
            while not FetchJob.objects.filter(pk=job.pk, state=FetchJob.State.DONE).exists():
                if time.monotonic() > deadline:
                    # Report what was stored by then rather than nothing.
                    finished = False
                    break
                time.sleep(0.1)
            wall = time.perf_counter() - started
        finally:
            celery_app.conf.task_always_eager = eager
            pool.stop()
        statuses = dict(
            FetchJobItem.objects.filter(job=job).values_list("status").annotate(n=Count("pk"))
        )
        requests = fake.count()
        too_many = sum(1 for r in fake.requests if r.status == 429)
        busiest = fake.max_in_any_second()
    finally:
        fake.stop()
    job.delete()
    delete_synthetic(FIRST_PMID, LAST_PMID)

    stored = statuses.get(FetchJobItem.Status.NEW, 0) + statuses.get(
        FetchJobItem.Status.UPDATED, 0
    )
    bounds = floors(
        # Unfinished: the floors of the whole job, to compare with a wall time that is not.
        requests=requests if finished else math.ceil(pmids / BATCH),
        stored=stored if finished else pmids,
        store_rate=store_rate,
        workers=workers,
        cpus=os.cpu_count() or 1,
    )
    floor = bounds["floor_s"]
    end_to_end = stored / wall
    request_target = math.ceil(pmids / BATCH) + 2
    note_failed = f"{pmids - stored} PMIDs not stored: {statuses}" if stored != pmids else ""
    if not finished:
        note_failed = (
            f"stopped after {timeout:.0f} s with {stored} of {pmids} stored; "
            "the rates below are over that part"
        )
    return [
        Figure(
            "ingestion",
            f"PMIDs stored ({workers} workers)",
            stored,
            "",
            f"= {pmids}",
            stored == pmids,
            note_failed,
        ),
        Figure(
            "ingestion",
            "requests sent",
            requests,
            "",
            f"≤ {request_target}",
            requests <= request_target,
            f"{too_many} answered 429; at most {busiest} in any second",
        ),
        Figure("ingestion", "wall time", wall, "s", "", None, extra=bounds),
        Figure(
            "ingestion",
            "wall time / larger floor",
            wall / floor,
            "x",
            f"≤ {WALL_RATIO_TARGET:g}",
            wall <= WALL_RATIO_TARGET * floor,
            f"bound by {bounds['bound']}: rate-limit floor {bounds['rate_limit_floor_s']:.1f} s "
            f"= {requests} requests / {RATE:g} per s; CPU floor {bounds['cpu_floor_s']:.1f} s "
            f"= {stored} / {store_rate:.0f} per s (one process) / {bounds['parallel']} "
            "(workers, at most the cores)",
        ),
        Figure("ingestion", "raw parse (Entrez.read)", parse_rate, "articles/s"),
        Figure(
            "ingestion",
            "storage, one process (parse + sanitise + store)",
            store_rate,
            "articles/s",
            "",
            None,
            f"ratio to raw parse {store_rate / parse_rate:.2f}",
        ),
        Figure(
            "ingestion",
            "end-to-end throughput / raw parse",
            end_to_end / parse_rate,
            "x",
            f"≥ {THROUGHPUT_RATIO_TARGET:g}",
            end_to_end / parse_rate >= THROUGHPUT_RATIO_TARGET,
            f"{end_to_end:.0f} articles/s end to end vs {parse_rate:.0f} articles/s raw parse",
        ),
    ]
