"""Every write to citations goes through these verb-named functions.

Views, tasks and management commands call them; none of them writes a
Citation or a FetchJob any other way. By topic:

- identifiers: what a user may ask for (PMID, PubMed URL, DOI), parsed once;
- jobs: fetch jobs, from the request to the last batch, retries and the sweep;
- storage: parsed PubMed articles stored as Citation rows (one, a batch, a file).
"""

from citations.actions.identifiers import Identifier, parse_identifier, split_identifiers
from citations.actions.jobs import (
    MAX_IDENTIFIERS,
    REQUEUE_AFTER,
    dispatch_job,
    finish_job_if_done,
    queue_job,
    request_fetch,
    requeue_stalled_jobs,
    retry_failed,
    run_batch,
    run_job,
    start_job,
)
from citations.actions.storage import (
    IMPORT_BATCH,
    ImportCounts,
    Stored,
    import_pubmed_file,
    mark_all_deleted,
    mark_deleted,
    store_article,
    store_articles,
)

__all__ = [
    "IMPORT_BATCH",
    "MAX_IDENTIFIERS",
    "REQUEUE_AFTER",
    "Identifier",
    "ImportCounts",
    "Stored",
    "dispatch_job",
    "finish_job_if_done",
    "import_pubmed_file",
    "mark_all_deleted",
    "mark_deleted",
    "parse_identifier",
    "queue_job",
    "request_fetch",
    "requeue_stalled_jobs",
    "retry_failed",
    "run_batch",
    "run_job",
    "split_identifiers",
    "start_job",
    "store_article",
    "store_articles",
]
