"""Reporting completeness: how much of the CARE case-report checklist a record holds.

Source: the CARE guidelines (Gagnier JJ, Kienle G, Altman DG, Moher D, Sox H,
Riley D; CARE Group. The CARE guidelines: consensus-based clinical case
reporting guideline development. Glob Adv Health Med 2013, PMID
24416692; checklist at https://www.care-statement.org/checklist and
https://www.equator-network.org/reporting-guidelines/care/). Of its 13 items,
those a case record can hold are 5 (patient information), 6 (clinical
findings), 7 (timeline), 8 (diagnostic assessment, with 8c "other diagnoses
considered"), 9 (therapeutic intervention) and 10 (follow-up and outcomes);
title, key words, abstract, introduction, discussion, patient perspective and
informed consent belong to the paper, not the record. Each item below says
which fields of the record stand for it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CareItem:
    number: str
    name: str
    present: bool
    missing: str  # what to record for it (shown when it is not present)


@dataclass(frozen=True)
class Completeness:
    items: tuple[CareItem, ...]

    @property
    def score(self) -> int:
        return sum(item.present for item in self.items)

    @property
    def total(self) -> int:
        return len(self.items)

    @property
    def missing(self) -> list[CareItem]:
        return [item for item in self.items if not item.present]

    def __str__(self) -> str:
        return f"{self.score}/{self.total}"


def completeness(case, *, rows: dict[str, int]) -> Completeness:
    """The CARE items a case holds. `rows`: how many rows of each kind it has
    ("ihc", "fusion", "molecular", "treatment", "event"), counted by the caller."""
    findings = rows.get("ihc", 0) + rows.get("fusion", 0) + rows.get("molecular", 0)
    has_differentials = bool(case.differentials_as_reported) or (
        case.pk is not None and bool(case.differentials.all())
    )
    return Completeness(
        (
            CareItem(
                "5",
                "Patient information",
                case.age is not None and bool(case.sex),
                "age and sex",
            ),
            CareItem(
                "6",
                "Clinical findings",
                bool(case.topography_id and (case.clinical_presentation or case.size_mm)),
                "the site and the presentation or size",
            ),
            CareItem(
                "7",
                "Timeline",
                bool(case.duration or rows.get("event", 0) or case.follow_up_months is not None),
                "the duration before diagnosis, or the course in months",
            ),
            CareItem(
                "8",
                "Diagnostic assessment",
                bool(case.final_diagnosis_id and findings and has_differentials),
                "the diagnosis, the findings behind it and the differentials considered",
            ),
            CareItem(
                "9",
                "Therapeutic intervention",
                bool(rows.get("treatment", 0)),
                "the treatment (a treatment row)",
            ),
            CareItem(
                "10",
                "Follow-up and outcomes",
                case.follow_up_months is not None and bool(case.outcome),
                "the last follow-up and the status then",
            ),
        )
    )
