"""A figure of a case: a histology (or clinical) picture from the paper, with its licence."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.utils.functional import LazyObject, empty

from accounts.roles import CURATOR, has_role
from curation import licences
from curation.images import DERIVATIVES


class _FigureStorage(LazyObject):
    """The `figures` storage of settings.STORAGES (DATA_DIR/figures by default), looked
    up when first used, and again after a test changes STORAGES."""

    def _setup(self):
        self._wrapped = storages["figures"]


_figure_files = _FigureStorage()


@receiver(setting_changed)
def _storages_changed(*, setting, **kwargs):
    if setting == "STORAGES":
        _figure_files._wrapped = empty


def figure_storage():
    """The storage of figures' files (the fields' `storage`, and what the code uses)."""
    return _figure_files


def panel_from_label(label: str) -> str:
    """“2” from a paper's “Figure 2” (or “Fig. 2”); the label itself otherwise."""
    match = re.match(r"^\s*fig(?:ure)?\.?\s*(\S+?)\.?\s*$", label, re.I)
    return match.group(1) if match else label[:20]


def storage_name(sha256: str, kind: str, extension: str) -> str:
    """Where a figure's file lives in the storage: under its original's SHA-256."""
    return f"{sha256[:2]}/{sha256}/{kind}.{extension}"


class FigureQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Figures of the cases the user may see; a figure without a licence that lets
        everybody see it only for curators and reviewers."""
        from curation.models.case import Case

        return self.filter(case__in=Case.objects.visible_to(user)).licensed_for(user)

    def of_gene(self, gene, limit: int = 6) -> list:
        """A few figures everybody may see of published cases with a fusion of `gene`:
        its own stain first (ALK IHC on ALK's page), then the newest. One query."""
        from curation.models.case import Case

        fused = Q(case__fusions__three_prime_gene=gene) | Q(case__fusions__five_prime_gene=gene)
        chosen = self.filter(
            fused,
            case__status=Case.Status.PUBLISHED,
            licence__in=licences.public_ids(),
        ).exclude(thumbnail="")
        return list(
            self.filter(pk__in=chosen.values("pk"))
            .select_related("case", "marker")
            .annotate(
                own_stain=models.Case(
                    models.When(marker__gene=gene, then=models.Value(0)),
                    default=models.Value(1),
                )
            )
            .order_by("own_stain", "-case__published_at", "position", "pk")[:limit]
        )

    def licensed_for(self, user):
        """All figures for curators and reviewers; for everybody else, only those whose
        licence lets them be shown."""
        if has_role(user, CURATOR):  # reviewers hold the curator role too
            return self
        return self.filter(licence__in=licences.public_ids())


class Figure(models.Model):
    class Stain(models.TextChoices):
        HE = "he", "H&E"
        IHC = "ihc", "Immunohistochemistry"
        OTHER = "other", "Other (say which in the caption)"

    case = models.ForeignKey("curation.Case", on_delete=models.CASCADE, related_name="figures")
    position = models.PositiveIntegerField(default=0)
    caption = models.TextField()
    panel_label = models.CharField(
        "panel label", max_length=20, blank=True, help_text="As in the paper: “2A”."
    )
    stain = models.CharField(max_length=10, choices=Stain.choices, blank=True)
    marker = models.ForeignKey(
        "curation.Marker",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="figures",
        help_text="The IHC marker, when the stain is immunohistochemistry.",
    )
    magnification = models.PositiveIntegerField(
        null=True, blank=True, help_text="Original magnification: 200 for “\u00d7200”."
    )
    credit = models.CharField(
        max_length=500, blank=True, help_text="As the licence asks: authors, journal, year."
    )
    licence = models.CharField(
        max_length=64,
        choices=[(key, lic.name) for key, lic in licences.licences().items()],
        help_text="SPDX identifier.",
    )
    permission_reference = models.CharField(
        max_length=300,
        blank=True,
        help_text="For a figure published with the publisher's permission: which permission.",
    )

    # The stored files (curation/images.py made them). Named by the SHA-256 of
    # the original, so a revision's copy of a figure shares its files.
    original = models.FileField(storage=figure_storage, max_length=255)
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    thumbnail = models.FileField(storage=figure_storage, max_length=255, blank=True)
    screen = models.FileField(storage=figure_storage, max_length=255, blank=True)
    webp = models.FileField(storage=figure_storage, max_length=255, blank=True)
    # A large picture's Deep Zoom descriptor (.dzi); its tiles are beside it.
    deep_zoom = models.FileField(storage=figure_storage, max_length=255, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="figures_added"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FigureQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(licence__in=list(licences.licences())),
                name="curation_figure_licence_known",
                violation_error_message="Choose a licence from the list.",
            ),
            models.CheckConstraint(
                condition=~Q(licence=licences.PUBLISHER_PERMISSION) | ~Q(permission_reference=""),
                name="curation_figure_permission_has_reference",
                violation_error_message=(
                    "Say which permission the publisher gave (a letter, a licence number)."
                ),
            ),
            models.CheckConstraint(
                condition=Q(stain="ihc", marker__isnull=False)
                | (~Q(stain="ihc") & Q(marker__isnull=True)),
                name="curation_figure_marker_iff_ihc",
                violation_error_message="An immunohistochemistry figure names its marker.",
            ),
            models.CheckConstraint(
                condition=Q(magnification__isnull=True) | Q(magnification__gte=1),
                name="curation_figure_magnification_positive",
                violation_error_message=(
                    "The magnification is a number such as 200 (for \u00d7200)."
                ),
            ),
        ]
        indexes = [
            # The derivatives task updates every copy of a figure: WHERE sha256 = ...
            models.Index(fields=["sha256"], name="curation_figure_sha256_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} of case {self.case_id}"

    @property
    def title(self) -> str:
        """“Figure 2A” (or “Figure” when the paper's panel label was not given)."""
        return f"Figure {self.panel_label}" if self.panel_label else "Figure"

    @property
    def licence_info(self) -> licences.Licence:
        return licences.licences()[self.licence]

    @property
    def is_public(self) -> bool:
        return self.licence_info.public

    @property
    def stain_display(self) -> str:
        """“H&E”, “ALK (IHC)”, or ""."""
        if self.stain == self.Stain.IHC and self.marker_id:
            return f"{self.marker} (IHC)"
        return self.get_stain_display() if self.stain else ""

    @property
    def magnification_display(self) -> str:
        return f"\u00d7{self.magnification}" if self.magnification else ""

    @property
    def derivatives_ready(self) -> bool:
        return all(getattr(self, name) for name in DERIVATIVES)


class OpenAccessPackage(models.Model):
    """The figures of a paper in PMC's open-access subset, fetched for curators to pick.

    A row first, then a Celery task (curation.fetch_open_access_figures) that
    downloads the package and records its figures; the curator attaches the
    ones they want to a case (attach_figure, with every check of an upload).
    """

    class State(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        DONE = "done", "Fetched"
        FAILED = "failed", "Failed"

    citation = models.OneToOneField(
        "citations.Citation", on_delete=models.CASCADE, related_name="open_access_package"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    error = models.TextField(blank=True)
    # The article's licence as an SPDX id of our list (NOASSERTION when it is
    # none of them), and as PMC and the article word it.
    licence = models.CharField(max_length=64, blank=True)
    licence_note = models.CharField(max_length=500, blank=True)
    credit = models.CharField(max_length=500, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    fetched_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"open-access figures of {self.citation_id} ({self.state})"


class OpenAccessFigure(models.Model):
    """One figure of a package, as the article's XML gives it; its image not yet checked."""

    package = models.ForeignKey(
        OpenAccessPackage, on_delete=models.CASCADE, related_name="figures"
    )
    position = models.PositiveIntegerField(default=0)
    fig_id = models.CharField(max_length=200)
    label = models.CharField(max_length=200, blank=True)
    caption = models.TextField(blank=True)
    file = models.FileField(storage=figure_storage, max_length=255)

    def __str__(self) -> str:
        return self.label or self.fig_id

    @property
    def panel_label(self) -> str:
        return panel_from_label(self.label)
