"""File import: a PubMed-baseline-style .xml.gz through `manage.py import_pubmed_xml`.

The file is built from the recorded articles, renumbered into the reserved
synthetic range from 980,000,001, under a baseline file's DOCTYPE, and kept
in DATA_DIR/bench/ for the next run. The command runs as a child process;
its peak memory is the child's own maximum RSS (VmHWM in /proc/<pid>/status).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
import time

from benchmarks.common import ROOT, Figure, bench_data_dir, child_env, log_dir
from curation.management.commands.generate_synthetic import delete_synthetic

FIRST_PMID = 980_000_001
LAST_PMID = 989_999_999
RSS_TARGET_MB = 300


def build_file(count: int):
    from tests.fake_eutils import FakeEutils

    path = bench_data_dir() / f"pubmed-baseline-{count}.xml.gz"
    if path.exists():
        return path
    fake = FakeEutils()  # only its articles and DOCTYPE: no server started
    pmids = fake.add_synthetic(count, first_pmid=FIRST_PMID)
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write(f'<?xml version="1.0" encoding="utf-8"?>\n{fake.doctype}\n<PubmedArticleSet>\n')
        for pmid in pmids:
            out.write(fake.article_xml(pmid))
            out.write("\n")
        out.write("</PubmedArticleSet>\n")
    partial.rename(path)
    return path


def _hwm_kb(status_file: str) -> int:
    try:
        with open(status_file) as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass  # gone between poll() and open(): the last reading stands
    return 0


def run(*, articles: int) -> list[Figure]:
    path = build_file(articles)
    delete_synthetic(FIRST_PMID, LAST_PMID)
    log = (log_dir() / "import.log").open("w")
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "import_pubmed_xml", str(path)],
        cwd=ROOT,
        env=child_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    # The child's own high-water mark, VmHWM, polled while it runs. Not
    # wait4's ru_maxrss: Linux carries the pre-exec peak of the forked process
    # (a copy of this one, hundreds of MB) into it, which is not the import's.
    peak_kb = 0
    status_file = f"/proc/{proc.pid}/status"
    while proc.poll() is None:
        peak_kb = max(peak_kb, _hwm_kb(status_file))
        time.sleep(0.05)
    elapsed = time.perf_counter() - started
    log.close()
    output = (log_dir() / "import.log").read_text(errors="replace")
    delete_synthetic(FIRST_PMID, LAST_PMID)
    ok = proc.returncode == 0 and f"new {articles}," in output
    rss_mb = peak_kb / 1024
    size_mb = path.stat().st_size / 1e6
    return [
        Figure(
            "file import",
            f"articles imported ({size_mb:.0f} MB .xml.gz)",
            articles if ok else 0,
            "",
            f"= {articles}",
            ok,
            "" if ok else output[-500:],
        ),
        Figure(
            "file import",
            "import rate",
            articles / elapsed,
            "articles/s",
            "",
            None,
            f"{elapsed:.1f} s in all, start-up included",
        ),
        Figure(
            "file import",
            "peak memory (child's max RSS)",
            rss_mb,
            "MB",
            f"≤ {RSS_TARGET_MB}",
            rss_mb <= RSS_TARGET_MB,
        ),
    ]
