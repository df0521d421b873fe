"""Every write to citations goes through these verb-named functions.

Views, tasks and management commands call them; none of them writes a
Citation or a FetchJob any other way. By topic:

- identifiers: what a user may ask for (PMID, DOI, PMC id, their links), parsed once;
- jobs: fetch jobs, from the request to their batches, and retries;
- batches: one efetch of a job, claimed by one run at a time, with a heartbeat;
- sweep: jobs and batches whose message was lost or whose worker died go again;
- storage: parsed PubMed articles stored as Citation rows (one, a batch, a file).
"""

from citations.actions.batches import finish_job_if_done, run_batch, send_batches
from citations.actions.identifiers import Identifier, parse_identifier, split_identifiers
from citations.actions.jobs import (
    MAX_IDENTIFIERS,
    dispatch_job,
    queue_job,
    request_fetch,
    retry_failed,
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
from citations.actions.sweep import (
    REQUEUE_AFTER,
    UNSENT_GRACE,
    requeue_stalled_batches,
    requeue_stalled_jobs,
)

__all__ = [
    "IMPORT_BATCH",
    "MAX_IDENTIFIERS",
    "REQUEUE_AFTER",
    "UNSENT_GRACE",
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
    "requeue_stalled_batches",
    "requeue_stalled_jobs",
    "retry_failed",
    "run_batch",
    "run_job",
    "send_batches",
    "split_identifiers",
    "start_job",
    "store_article",
    "store_articles",
]
