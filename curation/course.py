"""What a clinical course may hold: the one timeline rule (no Django).

Times are months from diagnosis. A course is impossible when something happens
after the last follow-up, when anything happens after death, when a patient
dies twice, or when the status at last follow-up contradicts a recorded death.
The case form and the API both ask `timeline_problems`; each problem names the
field or row it belongs to, so that the message stands next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

# The controlled lists of the course (the models' choices and the search's facet values).
TREATMENT_KINDS = (
    ("excisional_biopsy", "Excisional biopsy"),
    ("excision", "Excision (margins not specified)"),
    ("wide_local_excision", "Wide local excision"),
    ("mohs", "Mohs micrographic surgery"),
    ("re_excision", "Re-excision"),
    ("amputation", "Amputation"),
    ("radiotherapy", "Radiotherapy"),
    ("systemic", "Systemic therapy"),
    ("observation", "Observation only"),
    ("other", "Other (see as reported)"),
)
EVENT_KINDS = (
    ("local_recurrence", "Local recurrence"),
    ("regional_metastasis", "Regional (lymph node) metastasis"),
    ("distant_metastasis", "Distant metastasis"),
    ("metastasis", "Metastasis (regional or distant not said)"),
    ("death_of_disease", "Death of disease"),
    ("death_other_cause", "Death of another cause"),
)

DEATH_OF_DISEASE = "death_of_disease"
DEATH_OTHER_CAUSE = "death_other_cause"
DEATHS = {DEATH_OF_DISEASE: "dod", DEATH_OTHER_CAUSE: "doc"}
ALIVE = {"ned", "awd"}


@dataclass(frozen=True)
class Timed:
    """An event or a treatment: its kind, its label for messages, its time (or None)."""

    kind: str
    label: str
    months: Decimal | None


@dataclass(frozen=True)
class Problem:
    """`where`: "follow_up_months", "outcome", or ("event" | "treatment", row index)."""

    where: str | tuple[str, int]
    message: str


def _m(value: Decimal) -> str:
    value = Decimal(value).normalize()
    return f"{value:f}"


def timeline_problems(
    follow_up: Decimal | None,
    status: str,
    events: Sequence[Timed],
    treatments: Sequence[Timed] = (),
) -> list[Problem]:
    problems: list[Problem] = []
    deaths = [(i, e) for i, e in enumerate(events) if e.kind in DEATHS]
    for i, _event in deaths[1:]:
        problems.append(Problem(("event", i), "A patient dies once: remove one of the deaths."))
    death = deaths[0][1] if deaths else None

    for group, rows in (("event", events), ("treatment", treatments)):
        for i, row in enumerate(rows):
            if row.months is None:
                continue
            if follow_up is not None and row.months > follow_up:
                problems.append(
                    Problem(
                        (group, i),
                        f"{row.label} at {_m(row.months)} months is after the last follow-up "
                        f"({_m(follow_up)} months): correct one of them.",
                    )
                )
            elif (
                death is not None
                and row is not death
                and death.months is not None
                and row.months > death.months
            ):
                problems.append(
                    Problem(
                        (group, i),
                        f"{row.label} at {_m(row.months)} months is after the death at "
                        f"{_m(death.months)} months.",
                    )
                )

    if death is not None:
        if follow_up is not None and death.months is not None and follow_up > death.months:
            problems.append(
                Problem(
                    "follow_up_months",
                    f"The last follow-up ({_m(follow_up)} months) is after the death at "
                    f"{_m(death.months)} months: the follow-up ends at death.",
                )
            )
        expected = DEATHS[death.kind]
        if status in ALIVE:
            problems.append(
                Problem(
                    "outcome",
                    f"The course records “{death.label.lower()}”: the status at last "
                    "follow-up cannot be alive.",
                )
            )
        elif status and status != expected:
            problems.append(
                Problem(
                    "outcome",
                    f"The course records “{death.label.lower()}”: the status at last "
                    "follow-up must say the same.",
                )
            )
    return problems
