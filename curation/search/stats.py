"""Statistics of the published registry: every number of the statistics page.

Counted in the facet index (curation/search/bitmaps.py) by intersections: no query
once the index of the registry's generation is held (a GROUP BY per chart took
seconds at 1,000,000 cases).
"""

from __future__ import annotations

from curation.models import Case, ClinicalEvent
from curation.search import bitmaps
from curation.search.params import AGE_BANDS

TOP = 20  # bars per chart (the largest counts); the table says when more exist


def _chart(key: str, title: str, label: str, rows: list[tuple[str, int]], note: str = ""):
    return {"key": key, "title": title, "label": label, "rows": rows, "note": note}


def _top(index, facet: str, cases) -> list[tuple[str, int]]:
    """The TOP values (by name) of `facet` that most of `cases` have, most first."""
    names = index.labels[facet]
    rows = [(names.get(value, ""), n) for value, n in bitmaps.counts(index, facet, cases).items()]
    return sorted(rows, key=lambda row: (-row[1], row[0]))[:TOP]


def registry_stats(*, retracted: bool = False, index=None) -> list[dict]:
    """Every number of the page, from the facet index (`index`, else the current one).

    The cases of retracted papers count only with `retracted` (Case.objects.counted).
    """
    index = index or bitmaps.current()
    published = bitmaps.counted(index, retracted=retracted)
    charts = [
        _chart("diagnosis", "Cases by diagnosis", "Diagnosis", _top(index, "dx", published)),
        _chart(
            "family",
            "Cases by WHO family",
            "WHO family",
            _top(index, "family", published),
            note="The family of the final diagnosis in the WHO classification (5th edition).",
        ),
    ]
    sites = index.labels["site"]
    charts.append(
        _chart(
            "site",
            "Cases by site",
            "Site (ICD-O-3)",
            [
                (f"{code} {sites.get(code, '')}", n)
                for code, n in sorted(bitmaps.counts(index, "site", published).items())
            ],
        )
    )

    genes = index.labels["gene"]
    pairs: dict[tuple, object] = {}
    for (five, three, _method), of_fusion in index.values[bitmaps.FUSIONS].items():
        pairs[(five, three)] = of_fusion | pairs.get((five, three), bitmaps.EMPTY)
    fusions = [
        (genes.get(five), genes.get(three), n)
        for (five, three), of_pair in pairs.items()
        if (n := published.intersection_cardinality(of_pair))
    ]
    fusions.sort(key=lambda f: (-f[2], f[1] is None, f[1] or "", f[0] is None, f[0] or ""))
    charts.append(
        _chart(
            "fusion",
            "Cases by fusion",
            "Fusion",
            [(f"{five or '?'}::{three}", n) for five, three, n in fusions[:TOP]],
            note="“?” is an unknown 5' partner (a break-apart FISH).",
        )
    )

    grades = bitmaps.counts(index, "grade", published)
    charts.append(
        _chart(
            "grade",
            "Cases by evidence grade",
            "Grade",
            [(label, grades.get(code, 0)) for code, label in Case.Grade.choices],
            note="How sure the diagnosis is, from the findings recorded (see the README).",
        )
    )

    followed = bitmaps.having(index, "follow_up", published)
    events = bitmaps.counts(index, "event", followed)
    metastasis = followed.intersection_cardinality(index.union("event", ClinicalEvent.METASTASES))
    course = [
        ("Followed up", len(followed)),
        ("Local recurrence", events.get("local_recurrence", 0)),
        ("Metastasis (regional or distant)", metastasis),
        ("Died of disease", events.get("death_of_disease", 0)),
    ]
    charts.append(
        _chart(
            "course",
            "Clinical course of the cases with follow-up",
            "Cases",
            course,
            note="Only cases with a follow-up time count here; each case once per row.",
        )
    )

    bands = bitmaps.counts(index, "age", published)
    charts.append(
        _chart(
            "age",
            "Age at diagnosis",
            "Age",
            [(label, bands.get(key, 0)) for key, label, _, _ in AGE_BANDS],
        )
    )

    years = [
        (str(year), bitmaps.papers_of(index, published & of_year))
        for year, of_year in sorted(index.values["year"].items())
    ]
    charts.append(
        _chart(
            "year",
            "Case reports per publication year",
            "Year",
            [(year, n) for year, n in years if n],
            note="Papers with at least one published case, by the year PubMed gives.",
        )
    )
    return charts
