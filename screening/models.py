"""Screening: the papers that might hold a case report, before anyone curates them.

A Candidate is one paper (one PMID, one DOI: both unique), with every place it
was found (CandidateSource: a saved search, a paper's references, a
suggestion). Screening decisions are kept in order (ScreeningDecision, never
changed); the candidate's `status` and `assigned_to` repeat the latest one so
that the inbox filters on one row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ExclusionReason(models.Model):
    """Why a paper was excluded; reviewers edit the list, a used reason is retired, not deleted."""

    label = models.CharField(max_length=200)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["label"], name="screening_exclusionreason_label_unique"
            )
        ]

    def __str__(self) -> str:
        return self.label


class HighlightTerm(models.Model):
    """A term of an entity, highlighted wherever it appears in a title or abstract."""

    term = models.CharField(max_length=200)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["term"], name="screening_highlightterm_term_unique")
        ]

    def __str__(self) -> str:
        return self.term


class Candidate(models.Model):
    class Status(models.TextChoices):
        NEW = "new", "Not screened"
        INCLUDED = "include", "Included"
        EXCLUDED = "exclude", "Excluded"
        MAYBE = "maybe", "Maybe"
        # Dual screening: the two screeners decided differently; a reviewer settles it.
        CONFLICT = "conflict", "Screeners disagree"

    pmid = models.PositiveBigIntegerField("PMID", null=True, blank=True)
    # Lower-case (citations.pubmed.normalize_doi), "" when unknown.
    doi = models.CharField("DOI", max_length=255, blank=True)
    # The stored citation once there is one (title, abstract, journal come from it).
    citation = models.ForeignKey(
        "citations.Citation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="candidates",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_candidates",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    # Two curators screen it independently (blind): its saved search's setting (DualSearch)
    # when the paper arrived.
    dual = models.BooleanField(default=False)
    # A candidate known by its DOI alone: when PubMed was asked for the DOI's PMID (null:
    # not yet); still no PMID after it: PubMed has no record of the DOI.
    doi_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pmid"], name="screening_candidate_pmid_unique"),
            models.UniqueConstraint(
                fields=["doi"], condition=~Q(doi=""), name="screening_candidate_doi_unique"
            ),
            models.CheckConstraint(
                condition=Q(pmid__isnull=False) | ~Q(doi=""),
                name="screening_candidate_has_identifier",
            ),
            models.CheckConstraint(
                condition=~Q(status="include") | Q(assigned_to__isnull=False),
                name="screening_candidate_included_is_assigned",
            ),
        ]
        indexes = [
            # The inbox: one status, oldest first.
            models.Index(fields=["status", "created_at"], name="screening_cand_status_idx"),
        ]

    def __str__(self) -> str:
        return f"PMID {self.pmid}" if self.pmid else f"DOI {self.doi}"

    @property
    def last_decision(self):
        """The latest decision (from the prefetched `decisions`, in order), or None."""
        decisions = list(self.decisions.all())
        return max(decisions, key=lambda d: (d.at, d.pk)) if decisions else None

    @property
    def identifier(self) -> str:
        """What the new-report page is given: the PMID, else the DOI."""
        return str(self.pmid) if self.pmid else self.doi


class CandidateSource(models.Model):
    """One place a candidate was found; a paper found again gets another row, marked duplicate."""

    class Kind(models.TextChoices):
        SEARCH = "search", "Saved search"
        REFERENCE = "reference", "Citation chasing"
        SUGGESTION = "suggestion", "Suggested"
        MANUAL = "manual", "Added by hand"

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What found it: the saved search's name, "references of PMID 35560368", ...
    label = models.CharField(max_length=300, blank=True)
    duplicate = models.BooleanField(
        default=False, help_text="The paper was already a candidate when this source found it."
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    email = models.EmailField(blank=True)
    note = models.TextField(blank=True)
    # A suggester's address as accounts.throttle.client_key (to count suggestions only).
    client_key = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            # The suggestion rate limit: one client's sources since a time.
            models.Index(fields=["client_key", "created_at"], name="screening_source_rate_idx"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()}: {self.label}" if self.label else self.get_kind_display()
        )


class ScreeningDecision(models.Model):
    """One decision on a candidate (the event): who, when, what, why, and who curates it."""

    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE, related_name="decisions")
    decision = models.CharField(
        max_length=10,
        choices=[
            c
            for c in Candidate.Status.choices
            if c[0] not in (Candidate.Status.NEW, Candidate.Status.CONFLICT)
        ],
    )
    reason = models.ForeignKey(ExclusionReason, null=True, blank=True, on_delete=models.PROTECT)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    # A reviewer's decision on a candidate whose two screeners disagreed.
    settles = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(decision="exclude", reason__isnull=False)
                | (~Q(decision="exclude") & Q(reason__isnull=True)),
                name="screening_screeningdecision_reason_iff_excluded",
            ),
            models.CheckConstraint(
                condition=~Q(decision="include") | Q(assigned_to__isnull=False),
                name="screening_screeningdecision_included_is_assigned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_decision_display()} {self.candidate} by {self.by_id}"


class DualSearch(models.Model):
    """A saved search whose papers two curators screen independently (blind dual screening);
    none: one decision is enough. Reviewers set it (screening.actions.set_dual_screening)."""

    search = models.OneToOneField(
        "citations.SavedSearch", on_delete=models.CASCADE, related_name="dual_screening"
    )
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    set_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Dual screening of {self.search}"


class SearchCurator(models.Model):
    """A curator a saved search notifies: its new papers are in that curator's weekly
    digest. A search naming nobody notifies every curator."""

    search = models.ForeignKey(
        "citations.SavedSearch", on_delete=models.CASCADE, related_name="notified_curators"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["search", "user"], name="screening_searchcurator_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.search} notifies {self.user}"


class DigestOptOut(models.Model):
    """A curator who asked for no weekly screening digest (a one-click link in it, or the
    digest page); deleting the row turns it back on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screening_digest_off"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"No screening digest for {self.user}"
