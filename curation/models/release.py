"""Releases: frozen, citable versions of everything published (issue 17).

A release's files are written through the "releases" storage first; the row
is written last, in one transaction with its cases. So a release that is
listed is complete, and a name that is taken is never written again.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.urls import reverse

# "2026-12", "2026-12-fix1": letters, digits, dot, dash, underscore; no "/" or "..".
NAME_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.)){0,39}$"
name_validator = RegexValidator(
    NAME_PATTERN,
    "A release name is 1 to 40 letters, digits, “.”, “-” or “_”, starting with a letter "
    "or digit (e.g. 2026-12); no “/” and no “..”.",
)


class Release(models.Model):
    name = models.CharField(max_length=40, validators=[name_validator])
    created_at = models.DateTimeField()
    licence = models.CharField(max_length=60, help_text="SPDX identifier, e.g. CC-BY-4.0")
    # [{"name": "cases.csv", "size": 1234, "sha256": "..."}], in the listing's order.
    files = models.JSONField(default=list)
    case_count = models.PositiveIntegerField(default=0)
    citation_count = models.PositiveIntegerField(default=0)
    # What the changelog of the next release compares with: vocabulary versions
    # and term names ({"diagnoses": {"12": "name"}, ...}).
    vocabularies = models.JSONField(default=dict)
    changelog = models.JSONField(default=dict)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["name"], name="curation_release_name_unique"),
        ]

    def __str__(self) -> str:
        return f"RareDerm release {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("curation:release_list") + f"#release-{self.name}"

    @property
    def total_size(self) -> int:
        return sum(item["size"] for item in self.files)


class ReleaseCase(models.Model):
    """A case in a release, at the version the release holds."""

    release = models.ForeignKey(Release, on_delete=models.PROTECT, related_name="cases")
    case = models.ForeignKey("curation.Case", on_delete=models.PROTECT, related_name="releases")
    version = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["release", "case"], name="curation_releasecase_unique"
            ),
        ]
        indexes = [
            # The case page: "in releases 2026-11 (version 2), 2026-12 (version 3)".
            models.Index(fields=["case", "release"], name="curation_releasecase_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} v{self.version} in {self.release.name}"
