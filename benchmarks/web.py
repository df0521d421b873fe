"""Web: gunicorn (2 workers, production settings) under a separate load-generator process.

Each page is one line of PAGES. A page whose URL name does not exist (yet)
is reported as pending rather than failing the run.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.core.cache import caches
from django.urls import NoReverseMatch, reverse, set_urlconf

from benchmarks.common import (
    BIN,
    ROOT,
    Figure,
    child_env,
    free_port,
    log_dir,
    percentile,
)
from curation.models import Case

P50_RATIO_TARGET = 4.0
P95_TARGET_MS = 150.0
BASELINE = "baseline (one primary-key query)"


@dataclass
class Page:
    name: str
    url_name: str
    query: str = ""
    args: Callable[[dict], list] | None = None


PAGES = [
    Page(BASELINE, "bench_baseline", args=lambda f: [f["case"]]),
    Page("case list (search, no filter)", "curation:search"),
    Page(
        "three-facet filter (ALK fusion + C44.4 + ALK positive)",
        "curation:search",
        "three=ALK&site=C44.4&ihc=" + quote("ALK:positive"),
    ),
    Page(
        "full-text query",
        "curation:search",
        "q=" + quote("inflammatory myofibroblastic tumor scalp"),
    ),
    Page(
        "immunoprofile query (ALK+ SMA+ S100- SOX10-)",
        "curation:search",
        "profile=" + quote("ALK+ SMA+ S100- SOX10-"),
    ),
    # Issue 15's answer pages.
    Page(
        "results as a table (100 a page, by size)",
        "curation:search",
        "view=table&per_page=100&sort=-size",
    ),
    Page(
        "entity page (inflammatory myofibroblastic tumor)",
        "curation:diagnosis",
        args=lambda f: ["inflammatory-myofibroblastic-tumor"],
    ),
    Page(
        "stains page (three diagnoses)",
        "curation:stains",
        "dx=inflammatory-myofibroblastic-tumor&dx=dermatofibroma"
        "&dx=dermatofibrosarcoma-protuberans",
    ),
    Page(
        "review table (ALK fusion, skin of scalp and neck)",
        "curation:search_summary",
        "three=ALK&site=C44.4",
    ),
    Page("case page", "curation:case_detail", args=lambda f: [f["case"]]),
    Page("statistics page", "curation:stats"),
    Page("gene page (ALK)", "curation:gene", args=lambda f: ["ALK"]),
    Page("home page", "curation:home"),
    Page("citation list", "citations:list"),
]

# The search, statistics and gene pages cache their counts per registry
# generation (curation/search/cache.py): the pages above are measured warm, as
# a reader meets them between two publications. Their cold figure -- every
# count recomputed, as on the first request after a publication -- is measured
# too, with `nocache`, a parameter honoured only under benchmarks.settings.
COLD = " (cold: cache bypassed)"
CACHED = (
    "case list (search, no filter)",
    "three-facet filter (ALK fusion + C44.4 + ALK positive)",
    "full-text query",
    "immunoprofile query (ALK+ SMA+ S100- SOX10-)",
    "results as a table (100 a page, by size)",
    "statistics page",
    "gene page (ALK)",
)
PAGES += [
    Page(
        page.name + COLD,
        page.url_name,
        "&".join(filter(None, [page.query, "nocache=1"])),
        page.args,
    )
    for page in PAGES
    if page.name in CACHED
]


def fixtures() -> dict:
    """A typical case to show: published, ALK-fused, in the middle of the table."""
    cases = Case.objects.published().filter(fusions__three_prime_gene__symbol="ALK")
    count = cases.count()
    pk = cases.order_by("pk").values_list("pk", flat=True)[count // 2] if count else None
    if pk is None:
        pk = Case.objects.published().order_by("pk").values_list("pk", flat=True).first()
    if pk is None:
        raise RuntimeError("no published case to benchmark: generate_synthetic first")
    return {"case": pk}


COLD_SET = "cold set ({n} distinct queries, each asked once)"
# Issue 19's cold targets: a query computed for the first time, p95 ≤ 300 ms; an
# unfiltered page ≤ 150 ms. The "(cold: cache bypassed)" rows are judged by them (the
# warm targets are for pages a reader asks again).
# At 1,000,000 cases the issue asks cold p95 ≤ 1 s (the warm targets are the same).
COLD_P95_TARGET_MS = 300.0
UNFILTERED_COLD_P95_TARGET_MS = 150.0
LARGE_REGISTRY = 1_000_000
LARGE_COLD_P95_TARGET_MS = 1000.0
UNFILTERED = ("case list (search, no filter)", "statistics page")


def cold_p95_target(name: str, cases: int = 0) -> float:
    """The p95 target of a cold row ("(cold: cache bypassed)", the cold set) at a
    registry of `cases` published cases."""
    if cases >= LARGE_REGISTRY:
        return LARGE_COLD_P95_TARGET_MS
    if name.removesuffix(COLD) in UNFILTERED:
        return UNFILTERED_COLD_P95_TARGET_MS
    return COLD_P95_TARGET_MS


AFTER_PUBLICATION = "after a publication (the 10 s that follow, readers asking on)"
AFTER_PUBLICATION_MAX_MS = 300.0
AFTER_PUBLICATION_WINDOW_S = 10.0
WORKER_MEMORY_MB = 400.0
# What readers keep asking while a case is published: the pages whose values the
# publication makes obsolete (counts, facet index, answer pages).
AFTER_PUBLICATION_PAGES = (
    "case list (search, no filter)",
    "three-facet filter (ALK fusion + C44.4 + ALK positive)",
    "full-text query",
    "immunoprofile query (ALK+ SMA+ S100- SOX10-)",
    "entity page (inflammatory myofibroblastic tumor)",
    "stains page (three diagnoses)",
    "statistics page",
    "gene page (ALK)",
    "home page",
)


def cold_queries(count: int = 120, seed: int = 1) -> list[str]:
    """`count` distinct reader queries, each to be asked once, from the registry's vocabulary.

    Facet combinations (diagnosis + site, fusion + stain, site + stain),
    immunoprofiles, words, entity pages, stain pages and review tables: none
    is in the cache when asked, as with a reader's new query.
    """
    import random

    from curation.models import Diagnosis, FusionFinding, IHCResult
    from curation.search.answers import diagnosis_slug

    rng = random.Random(seed)
    published = Case.objects.published()
    diagnoses = list(
        Diagnosis.objects.filter(pk__in=published.values("final_diagnosis")).order_by("pk")
    )
    sites = sorted(
        set(published.exclude(topography=None).values_list("topography__code", flat=True))
    )
    genes = sorted(
        set(
            FusionFinding.objects.filter(case__in=published).values_list(
                "three_prime_gene__symbol", flat=True
            )
        )
        - {None}
    )
    markers = sorted(set(IHCResult.objects.values_list("marker__name", flat=True).distinct()))
    if not (diagnoses and sites and genes and markers):
        raise RuntimeError("the registry is too small for a cold set: generate_synthetic first")
    words = sorted({w for d in diagnoses for w in d.name.lower().split() if len(w) > 4})
    search, summary = reverse("curation:search"), reverse("curation:search_summary")
    stains = reverse("curation:stains")

    def sign():
        return rng.choice("+-")

    kinds = [
        lambda: f"{search}?dx={rng.choice(diagnoses).pk}&site={quote(rng.choice(sites))}",
        lambda: (
            f"{search}?three={quote(rng.choice(genes))}"
            f"&ihc={quote(rng.choice(markers) + ':positive')}"
        ),
        lambda: (
            f"{search}?site={quote(rng.choice(sites))}"
            f"&ihc={quote(rng.choice(markers) + ':negative')}"
        ),
        lambda: (
            f"{search}?profile="
            + quote(" ".join(m + sign() for m in rng.sample(markers, min(3, len(markers)))))
        ),
        lambda: f"{search}?q={quote(' '.join(rng.sample(words, min(2, len(words)))))}",
        lambda: reverse("curation:diagnosis", args=[diagnosis_slug(rng.choice(diagnoses))]),
        lambda: (
            f"{stains}?"
            + "&".join(
                f"dx={diagnosis_slug(d)}" for d in rng.sample(diagnoses, min(2, len(diagnoses)))
            )
        ),
        lambda: f"{summary}?dx={rng.choice(diagnoses).pk}&three={quote(rng.choice(genes))}",
    ]
    found: dict[str, None] = {}
    for _ in range(count * 50):
        if len(found) >= count:
            break
        found.setdefault(rng.choice(kinds)(), None)
    return list(found)


def resolve(pages: list[Page], data: dict) -> tuple[list[dict], list[str]]:
    """(pages with a path, names of pending pages) under the benchmark's URLconf."""
    set_urlconf("benchmarks.urls")
    try:
        found, pending = [], []
        for page in pages:
            try:
                path = reverse(page.url_name, args=page.args(data) if page.args else None)
            except NoReverseMatch:
                pending.append(page.name)
                continue
            found.append(
                {"name": page.name, "path": path + (f"?{page.query}" if page.query else "")}
            )
        return found, pending
    finally:
        set_urlconf(None)


def collectstatic(env: dict) -> None:
    # DEBUG off serves hashed static names from a manifest: build it once.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


class Gunicorn:
    def __init__(self, env: dict, workers: int = 2):
        self.port = free_port()
        self.log = (log_dir() / "gunicorn.log").open("w")
        self.proc = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi:application",
                f"--workers={workers}",
                f"--bind=127.0.0.1:{self.port}",
                "--worker-class=sync",
                "--error-logfile=-",
                "--log-level=warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        url = f"http://127.0.0.1:{self.port}{path}"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited: see {self.log.name}")
            try:
                with urllib.request.urlopen(url, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")

    def worker_peak_rss_mb(self) -> float | None:
        """The largest peak resident memory (VmHWM) of the web workers (Linux /proc)."""
        peaks = []
        try:
            children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
            for pid in children.split():
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            return None
        return max(peaks) if peaks else None

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def run(
    *, rounds: int, requests: int, seconds: float, concurrency: int = 2, cases: int = 0
) -> list[Figure]:
    data = fixtures()
    pages, pending = resolve(PAGES, data)
    cold = cold_queries()
    # A cache of its own, empty: the server starts as a fresh deployment would (an
    # earlier run's values, current or previous, would make the cold set warm), and
    # this process's publication bumps the generation the server reads.
    prefix = f"{settings.REDIS_KEY_PREFIX[:40]}-bench-{secrets.token_hex(4)}"
    env = child_env(DJANGO_SETTINGS_MODULE="benchmarks.settings", REDIS_KEY_PREFIX=prefix)
    collectstatic(env)
    own_prefix, caches["default"].key_prefix = caches["default"].key_prefix, prefix
    server = Gunicorn(env)
    try:
        server.wait_ready(pages[0]["path"])
        spec = {
            "host": "127.0.0.1",
            "port": server.port,
            "pages": pages,
            "rounds": rounds,
            "requests": requests,
            "seconds": seconds,
            "concurrency": concurrency,
            "warmup": 3,
            "cold": cold,
        }
        # The load generator is its own process: it must not share an interpreter
        # lock with this one (or with the server, obviously).
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.loadgen"],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
            timeout=rounds * len(pages) * (seconds + 60) + 120,
        )
        results = json.loads(done.stdout)
        soaked = [p["path"] for p in pages if p["name"] in AFTER_PUBLICATION_PAGES]
        published_at, requests = after_publication(spec, soaked, data)
        memory = server.worker_peak_rss_mb()
    finally:
        server.stop()
        caches["default"].key_prefix = own_prefix
        forget_keys(prefix)
    return [
        *figures(pages, results, pending, cases=cases),
        cold_figure(cold, results["cold"], cases=cases),
        publication_figure(published_at, requests),
        Figure(
            "web memory",
            "web worker peak memory (VmHWM, the larger of 2)",
            memory,
            "MB",
            f"≤ {WORKER_MEMORY_MB:g}",
            None if memory is None else memory <= WORKER_MEMORY_MB,
            note="" if memory is not None else "not measured: no /proc",
        ),
    ]


def forget_keys(prefix: str) -> None:
    """Remove the run's own Redis keys (its cache, and Celery's under that prefix)."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    batch = []
    for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            client.delete(*batch)
            batch = []
    if batch:
        client.delete(*batch)


def publish_a_case(data: dict) -> tuple[float, int]:
    """Publish a copy of the benchmark's case as a reviewer would (draft, submitted,
    published: the publication bumps the registry's generation on commit); (the
    moment of the commit, its id); removed after the measurement."""
    from django.db import transaction
    from django.utils import timezone

    case = Case.objects.get(pk=data["case"])
    ihc = list(case.ihc_results.all())
    fusions = list(case.fusions.all())
    case.pk = case.id = None
    case.label = "published during the benchmark"
    case.status = Case.Status.SUBMITTED
    case.published_at = None
    case.save()
    with transaction.atomic():
        for row in [*ihc, *fusions]:
            row.pk = row.id = None
            row.case = case
            row.save()
        case.status = Case.Status.PUBLISHED
        case.published_at = timezone.now()
        case.save()
    return time.time(), case.pk


def after_publication(spec: dict, paths: list[str], data: dict) -> tuple[float, list]:
    """Readers keep asking `paths` (2 at a time) while a case is published: every
    request's start, latency and status, and the moment of the publication."""
    seconds = AFTER_PUBLICATION_WINDOW_S + 4
    soak = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.loadgen"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    body = {**spec, "soak": {"paths": paths, "seconds": seconds}}
    soak.stdin.write(json.dumps(body))
    soak.stdin.close()
    time.sleep(2)  # readers first meet the warm pages
    published_at, pk = publish_a_case(data)
    try:
        out = soak.stdout.read()
        soak.wait(timeout=seconds + 120)
    finally:
        # The registry stays the size asked for (a later run reuses it).
        Case.objects.filter(pk=pk).delete()
    return published_at, json.loads(out)["requests"]


def publication_figure(published_at: float, requests: list) -> Figure:
    """The slowest request started in the window after the publication (target ≤ 300 ms)."""
    end = published_at + AFTER_PUBLICATION_WINDOW_S
    window = [r for r in requests if published_at <= r[0] <= end]
    timed = [(ms, path) for _, ms, status, path in window if status == "200" and ms is not None]
    lat = [ms for ms, _ in timed]
    errors: dict[str, int] = {}
    for _, _, status, _ in window:
        if status != "200":
            errors[status] = errors.get(status, 0) + 1
    slowest, slowest_path = max(timed) if timed else (None, "")
    ok = bool(lat) and not errors and slowest <= AFTER_PUBLICATION_MAX_MS
    before = [ms for started, ms, _, _ in requests if started < published_at and ms]
    return Figure(
        "web",
        AFTER_PUBLICATION,
        slowest,
        "ms, slowest request",
        f"every request ≤ {AFTER_PUBLICATION_MAX_MS:g} ms",
        ok,
        note=(f"HTTP errors: {errors}; " if errors else "")
        + f"slowest {slowest or 0:.1f} ms ({slowest_path}); {len(window)} requests in "
        + f"{AFTER_PUBLICATION_WINDOW_S:g} s, "
        + f"p95 {percentile(lat, 95) or 0:.1f} ms (before the publication: "
        + f"p95 {percentile(before, 95) or 0:.1f} ms)",
        extra={
            "slowest_ms": slowest,
            "slowest_path": slowest_path,
            "p50_ms": percentile(lat, 50),
            "p95_ms": percentile(lat, 95),
            "requests": len(window),
            "requests_per_s": len(window) / AFTER_PUBLICATION_WINDOW_S,
            "ratio_p50_to_baseline": None,
            "p95_before_ms": percentile(before, 95),
        },
    )


def cold_figure(paths: list[str], got: dict, *, cases: int = 0) -> Figure:
    lat = got["latencies_ms"]
    p50, p95 = percentile(lat, 50), percentile(lat, 95)
    errors = {k: v for k, v in got["statuses"].items() if k != "200"}
    target = cold_p95_target(COLD_SET, cases)
    ok = not errors and p95 is not None and p95 <= target
    return Figure(
        "web",
        COLD_SET.format(n=len(paths)),
        p50,
        "ms p50",
        f"p95 ≤ {target:g} ms",
        ok,
        note=f"HTTP errors: {errors}" if errors else "",
        extra={
            "paths": paths,
            "p50_ms": p50,
            "p95_ms": p95,
            "requests_per_s": len(lat) / got["elapsed"] if got["elapsed"] else None,
            "ratio_p50_to_baseline": None,
            "requests": len(lat),
            "bytes": round(sum(got["bytes"]) / len(got["bytes"])) if got["bytes"] else 0,
        },
    )


def figures(
    pages: list[dict], results: dict, pending: list[str], *, cases: int = 0
) -> list[Figure]:
    base = results[BASELINE]
    base_p50 = percentile(base["latencies_ms"], 50)
    out = []
    for page in pages:
        got = results[page["name"]]
        lat = got["latencies_ms"]
        p50, p95 = percentile(lat, 50), percentile(lat, 95)
        errors = {k: v for k, v in got["statuses"].items() if k != "200"}
        rps = len(lat) / got["elapsed"] if got["elapsed"] else None
        ratio = p50 / base_p50 if p50 and base_p50 else None
        is_base = page["name"] == BASELINE
        ok = None
        cold = page["name"].endswith(COLD)
        if p50 is not None and not errors and not is_base:
            ok = (
                p95 <= cold_p95_target(page["name"], cases)
                if cold
                else (ratio <= P50_RATIO_TARGET and p95 <= P95_TARGET_MS)
            )
        elif errors or p50 is None:
            ok = False
        out.append(
            Figure(
                "web",
                page["name"],
                p50,
                "ms p50",
                ""
                if is_base
                else f"p95 ≤ {cold_p95_target(page['name'], cases):g} ms (cold)"
                if cold
                else f"p50 ≤ {P50_RATIO_TARGET:g}x baseline, p95 ≤ {P95_TARGET_MS:g} ms",
                ok,
                note=f"HTTP errors: {errors}" if errors else "",
                extra={
                    "path": page["path"],
                    "p50_ms": p50,
                    "p95_ms": p95,
                    "requests_per_s": rps,
                    "ratio_p50_to_baseline": ratio,
                    "requests": len(lat),
                    "bytes": round(sum(got["bytes"]) / len(got["bytes"])) if got["bytes"] else 0,
                },
            )
        )
    for name in pending:
        out.append(
            Figure("web", name, None, "ms p50", note="pending: the page does not exist yet")
        )
    return out
