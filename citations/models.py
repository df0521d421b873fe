"""PubMed references and the jobs that fetch them.

A Citation row exists only for an article that was fetched and parsed in
full: a failed fetch leaves no partial row, its error is recorded on the
FetchJobItem of the request that asked for it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from config.text import search_text

SEARCH_TEXT_LIMIT = 200  # characters of a citation search that are read


class CitationQuerySet(models.QuerySet):
    def search(self, text: str):
        """PMID, DOI, or words found in the title, journal or an author's name."""
        from citations.pubmed import normalize_doi

        text = search_text(text, SEARCH_TEXT_LIMIT)
        if not text:
            return self
        if text.isdigit():
            return self.filter(pmid=int(text))
        doi = normalize_doi(text)
        if doi:
            return self.filter(doi=doi)
        queryset = self
        for word in text.split()[:8]:
            by_author = Author.objects.filter(citation=models.OuterRef("pk")).filter(
                Q(last_name__icontains=word) | Q(collective_name__icontains=word)
            )
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(journal__icontains=word)
                | Q(journal_iso__icontains=word)
                | Q(keywords__icontains=word)
                | models.Exists(by_author)
            )
        return queryset

    def with_authors(self):
        """Authors prefetched in PubMed order: one extra query for any number of rows."""
        return self.prefetch_related(
            models.Prefetch("authors", queryset=Author.objects.order_by("position"))
        )


class Citation(models.Model):
    class FetchStatus(models.TextChoices):
        FETCHED = "fetched", "Fetched from PubMed"
        # The row holds the last good record; a later refresh failed (error kept).
        REFRESH_FAILED = "refresh_failed", "Last refresh failed"
        # PubMed sent a DeleteCitation for this PMID: the record was withdrawn.
        DELETED = "deleted", "Deleted from PubMed"

    pmid = models.PositiveBigIntegerField("PMID")
    # Lower-case, "" when PubMed has none (the unique constraint skips "").
    doi = models.CharField("DOI", max_length=255, blank=True)
    pmcid = models.CharField("PMC ID", max_length=20, blank=True)
    # Sanitised HTML: only <i> <b> <sup> <sub> <u> survive.
    title = models.TextField(blank=True)
    # [{"label": "BACKGROUND", "category": "BACKGROUND", "text": "..."}], in order;
    # text is sanitised like the title.
    abstract = models.JSONField(default=list, blank=True)
    copyright = models.TextField(blank=True)
    journal = models.CharField(max_length=500, blank=True)
    journal_iso = models.CharField("ISO abbreviation", max_length=255, blank=True)
    volume = models.CharField(max_length=100, blank=True)
    issue = models.CharField(max_length=100, blank=True)
    pages = models.CharField(max_length=100, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    month = models.PositiveSmallIntegerField(null=True, blank=True)
    day = models.PositiveSmallIntegerField(null=True, blank=True)
    season = models.CharField(max_length=50, blank=True)
    # Verbatim, e.g. "1998 Dec-1999 Jan"; year above is extracted from it.
    medline_date = models.CharField(max_length=100, blank=True)
    epub_date = models.DateField("electronic publication date", null=True, blank=True)
    # ISO 639-2 codes as PubMed gives them, comma-separated when several ("eng, fre").
    language = models.CharField(max_length=100, blank=True)
    publication_types = models.JSONField(default=list, blank=True)
    # [{"descriptor": "Humans", "ui": "D006801", "major": false,
    #   "qualifiers": [{"name": "pathology", "ui": "Q000473", "major": true}]}]
    mesh_terms = models.JSONField("MeSH headings", default=list, blank=True)
    keywords = models.JSONField(default=list, blank=True)
    authors_complete = models.BooleanField(
        default=True, help_text="PubMed marks the author list complete (CompleteYN)."
    )
    retracted = models.BooleanField(default=False)
    # PubMed's retraction, erratum and expression-of-concern notices for the article
    # (pubmed.WATCHED_NOTICES): [{"type": "RetractionIn", "source": "...", "pmid": 1}].
    notices = models.JSONField(default=list, blank=True)
    # Citation chasing (citations.actions.links): NCBI's message when the last try to
    # fetch this paper's links failed, and when; cleared by the next good fetch.
    links_error = models.TextField(blank=True)
    links_error_at = models.DateTimeField(null=True, blank=True)
    fetch_status = models.CharField(
        max_length=20, choices=FetchStatus.choices, default=FetchStatus.FETCHED
    )
    fetch_error = models.TextField(blank=True)
    fetched_at = models.DateTimeField(null=True, blank=True)
    # The <PubmedArticle> element as received, to re-parse later.
    raw_xml = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = CitationQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pmid"], name="citations_citation_pmid_unique"),
            models.UniqueConstraint(
                fields=["doi"],
                condition=~Q(doi=""),
                name="citations_citation_doi_unique",
            ),
            models.CheckConstraint(
                condition=Q(doi=Lower("doi")), name="citations_citation_doi_lowercase"
            ),
        ]
        indexes = [
            # The citation list, newest first: ORDER BY year DESC, pmid DESC.
            models.Index(fields=["-year", "-pmid"], name="citations_citation_year_idx"),
        ]

    def __str__(self) -> str:
        return f"PMID {self.pmid}"

    def save(self, *args, **kwargs):
        self.doi = (self.doi or "").strip().lower()
        _clean_markup(self)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return reverse("citations:detail", args=[self.pmid])

    @property
    def pubmed_url(self) -> str:
        return f"https://pubmed.ncbi.nlm.nih.gov/{self.pmid}/"

    @property
    def doi_url(self) -> str:
        return f"https://doi.org/{self.doi}" if self.doi else ""

    @property
    def pmc_url(self) -> str:
        return f"https://www.ncbi.nlm.nih.gov/pmc/articles/{self.pmcid}/" if self.pmcid else ""


def _clean_markup(citation: Citation) -> None:
    """Title and abstract through the one sanitiser, on every write (the admin's too)."""
    from citations.pubmed import sanitize_inline

    citation.title = sanitize_inline(citation.title)
    if isinstance(citation.abstract, list):
        citation.abstract = [
            {**section, "text": sanitize_inline(section.get("text", ""))}
            if isinstance(section, dict)
            else section
            for section in citation.abstract
        ]


class Author(models.Model):
    citation = models.ForeignKey(Citation, on_delete=models.CASCADE, related_name="authors")
    # 0-based order in PubMed's AuthorList.
    position = models.PositiveSmallIntegerField()
    last_name = models.CharField(max_length=255, blank=True)
    fore_name = models.CharField(max_length=255, blank=True)
    initials = models.CharField(max_length=50, blank=True)
    suffix = models.CharField(max_length=50, blank=True)
    # A group author ("EpSSG Study Group"): then the name fields are empty.
    collective_name = models.TextField(blank=True)
    orcid = models.CharField("ORCID", max_length=40, blank=True)
    affiliations = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citation", "position"], name="citations_author_position_unique"
            ),
            models.CheckConstraint(
                condition=~Q(last_name="") | ~Q(collective_name=""),
                name="citations_author_has_name",
            ),
        ]

    def __str__(self) -> str:
        if self.collective_name:
            return self.collective_name
        return " ".join(part for part in (self.last_name, self.initials) if part)


class FetchJob(models.Model):
    """One request to fetch PubMed records: written before anything is queued.

    The outcome of each identifier is a FetchJobItem row rather than a JSON
    blob on the job: workers update items batch by batch (a 10,000-PMID job
    would otherwise rewrite one ever-growing document per batch, and two
    batches finishing at once would overwrite each other's outcomes), "retry
    failed" is a filter, progress is a COUNT, and "which jobs asked for PMID
    X" is an indexed query.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Fetching"
        DONE = "done", "Finished"

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fetch_jobs",
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.PENDING)
    # Free text shown on the job page ("bulk import", "fetch_pubmed command").
    source = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True, help_text="Why the whole job stopped, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    # When the task was last handed to the broker; the sweep re-queues old ones.
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # While a worker turns the job's DOIs into PMIDs and its items into
    # batches, it refreshes this every few seconds; null when nobody does.
    # The sweep hands the job to another worker when it stops (a dead worker).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery worker (its node name) doing so; "" for a process that is not one.
    worker = models.CharField(max_length=255, blank=True)

    class Meta:
        indexes = [
            # The sweep: WHERE state IN ('pending', 'running') AND queued_at < ...
            models.Index(fields=["state", "queued_at"], name="citations_fetchjob_sweep_idx"),
        ]

    def __str__(self) -> str:
        return f"Fetch job {self.pk} ({self.get_state_display().lower()})"

    def get_absolute_url(self) -> str:
        return reverse("citations:job", args=[self.pk])


class FetchBatch(models.Model):
    """One efetch of a job's items (at most ENTREZ_BATCH_SIZE PMIDs), one task at a time.

    A batch is a row before it is a message, like its job. The task that runs
    it claims it (a fresh run_token), refreshes heartbeat_at every few seconds
    from a thread while it fetches, and stores the answer only if it still
    holds the claim. The sweep hands a running batch whose heartbeat stopped
    (its worker died) to another worker, and sends again a queued batch whose
    message was lost: whichever task comes late finds the batch done, or
    claimed by a live run, and does nothing.
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        RUNNING = "running", "Fetching"
        DONE = "done", "Finished"

    job = models.ForeignKey(FetchJob, on_delete=models.CASCADE, related_name="batches")
    state = models.CharField(max_length=20, choices=State.choices, default=State.QUEUED)
    created_at = models.DateTimeField(auto_now_add=True)
    # When its last message was handed to the broker; null when the broker
    # refused it (the sweep sends it at its next run).
    queued_at = models.DateTimeField(null=True, blank=True)
    sends = models.PositiveIntegerField(default=0, help_text="Messages sent for this batch.")
    runs = models.PositiveIntegerField(default=0, help_text="Times a worker started it.")
    # The run holding the batch: its own token, its Celery task id (a message
    # re-delivered because its worker process died may take the batch back at
    # once) and its worker's node name ("" for a process that is not a worker).
    run_token = models.UUIDField(null=True, blank=True)
    task_id = models.CharField(max_length=255, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep, every few seconds: WHERE state IN ('queued', 'running').
            models.Index(
                fields=["state", "heartbeat_at"],
                condition=~Q(state="done"),
                name="citations_fetchbatch_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Batch {self.pk} of fetch job {self.job_id} ({self.get_state_display().lower()})"


class FetchJobItem(models.Model):
    """What one identifier of a FetchJob asked for, and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        NEW = "new", "Added"
        UPDATED = "updated", "Updated"
        FAILED = "failed", "Failed"

    job = models.ForeignKey(FetchJob, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    # As the user typed it, normalised: "35560368" or "10.1111/cup.14261".
    query = models.CharField(max_length=255)
    # The PMID asked for or resolved from a DOI; null until known.
    pmid = models.PositiveBigIntegerField("PMID", null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    citation = models.ForeignKey(
        Citation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="fetch_items",
    )
    tries = models.PositiveSmallIntegerField(default=0)
    # The batch that fetches it; null until the job's dispatcher batches it
    # (and again when "retry failed" puts it back to pending).
    batch = models.ForeignKey(
        FetchBatch, on_delete=models.SET_NULL, null=True, blank=True, related_name="items"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["job", "position"], name="citations_fetchjobitem_position_unique"
            ),
            models.UniqueConstraint(
                fields=["job", "query"], name="citations_fetchjobitem_query_unique"
            ),
        ]
        indexes = [
            # Progress and "retry failed": WHERE job_id = ... AND status = ...
            models.Index(fields=["job", "status"], name="citations_fetchjobitem_st_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.query}: {self.get_status_display().lower()}"

    @property
    def is_final(self) -> bool:
        return self.status != self.Status.PENDING


class SavedSearch(models.Model):
    """A PubMed query run on a schedule; each run takes the records added since the last one."""

    class Schedule(models.TextChoices):
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"

    name = models.CharField(max_length=100)
    query = models.TextField()
    schedule = models.CharField(max_length=10, choices=Schedule.choices, default=Schedule.WEEKLY)
    enabled = models.BooleanField(default=True)
    # Entry dates up to this day are taken (the last good run's maxdate); the next
    # run asks from this day on. Null: never run, the first run takes the whole history.
    covered_until = models.DateField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name"], name="citations_savedsearch_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class SavedSearchRun(models.Model):
    """One run of a saved search: the window asked for, counts, and the error if it failed."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    search = models.ForeignKey(SavedSearch, on_delete=models.CASCADE, related_name="runs")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    mindate = models.DateField(null=True, blank=True)
    maxdate = models.DateField()
    found = models.PositiveIntegerField(default=0, help_text="Records PubMed matched.")
    fetched = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0, help_text="Citations new to RareDerm.")
    failed = models.PositiveIntegerField(default=0, help_text="Records that could not be read.")
    requests = models.PositiveIntegerField(default=0, help_text="E-utilities requests made.")
    error = models.TextField(blank=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.search} {self.started_at:%Y-%m-%d %H:%M} ({self.state})"


class RefreshRun(models.Model):
    """One run of the retraction and correction watch (citations/actions/refresh.py).

    A row before it is a message: the command writes it, then queues its task.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        FAILED = "failed", "Failed"

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    # PMIDs asked for by hand; [] is every cited PMID.
    pmids = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=100, blank=True, help_text="beat, command, ...")
    requested = models.PositiveIntegerField(default=0, help_text="PMIDs to check.")
    checked = models.PositiveIntegerField(default=0, help_text="PMIDs PubMed answered for.")
    missing = models.PositiveIntegerField(
        default=0, help_text="PMIDs PubMed left out of its answer."
    )
    changed = models.PositiveIntegerField(default=0, help_text="Changes recorded.")
    requests = models.PositiveIntegerField(default=0, help_text="E-utilities requests made.")
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Citation refresh {self.pk} ({self.state})"


class CitationChange(models.Model):
    """What the watch found changed in a citation, and when: a notice, or its metadata."""

    class Kind(models.TextChoices):
        RETRACTION = "retraction", "Retracted"
        ERRATUM = "erratum", "Erratum published"
        CONCERN = "concern", "Expression of concern"
        METADATA = "metadata", "Metadata changed"

    citation = models.ForeignKey(Citation, on_delete=models.CASCADE, related_name="changes")
    run = models.ForeignKey(
        RefreshRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="changes"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # A notice: {"type": "RetractionIn", "source": "...", "pmid": 1 or null}.
    # Metadata: {"title": ["old", "new"], ...}, each field that changed.
    details = models.JSONField(default=dict, blank=True)
    found_at = models.DateTimeField()

    class Meta:
        indexes = [
            # A citation's page and the watch: WHERE citation_id = ... ORDER BY found_at.
            models.Index(fields=["citation", "found_at"], name="citations_change_found_idx"),
        ]

    def __str__(self) -> str:
        return f"PMID {self.citation.pmid}: {self.get_kind_display().lower()}"

    @property
    def summary(self) -> str:
        """One line: the notice's source, or the fields that changed."""
        if self.kind == self.Kind.METADATA:
            return "Changed: " + ", ".join(sorted(self.details))
        source = self.details.get("source", "")
        pmid = self.details.get("pmid")
        return f"{source} (PMID {pmid})" if pmid else source


class CitationLink(models.Model):
    """A paper PubMed links to a citation: one it cites, one citing it, or a related one.

    Written by citation chasing (citations.actions.links.store_links), all of a
    citation's links at once, from elink's answers.
    """

    class Relation(models.TextChoices):
        REFERENCE = "refs", "References"
        CITED_BY = "citedin", "Cited by"
        RELATED = "related", "Related"

    citation = models.ForeignKey(Citation, on_delete=models.CASCADE, related_name="links")
    relation = models.CharField(max_length=10, choices=Relation.choices)
    pmid = models.PositiveBigIntegerField("PMID")
    # PubMed's similarity score (related articles only).
    score = models.PositiveBigIntegerField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["citation", "relation", "pmid"], name="citations_citationlink_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"PMID {self.citation_id}: {self.get_relation_display()} PMID {self.pmid}"
