"""File import: a PubMed-baseline-style .xml.gz through `manage.py import_pubmed_xml`.

The file is built from the recorded articles, renumbered into the reserved
synthetic range from 980,000,001, under a baseline file's DOCTYPE, and kept
in DATA_DIR/bench/ for the next run. The command runs as a child process;
its peak memory is the child's own maximum RSS (os.wait4's rusage).
"""

from __future__ import annotations

import gzip
import os
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
    # wait4 gives this child's own peak RSS (RUSAGE_CHILDREN would mix in
    # every earlier child of this process: gunicorn, the workers).
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    log.close()
    output = (log_dir() / "import.log").read_text(errors="replace")
    delete_synthetic(FIRST_PMID, LAST_PMID)
    ok = proc.returncode == 0 and f"new {articles}," in output
    rss_mb = usage.ru_maxrss / 1024  # kilobytes on Linux
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
