"""Statistics of the published registry: every number of the statistics page."""

from __future__ import annotations

from django.db.models import Count

from curation.models import Case, ClinicalEvent, FusionFinding
from curation.search.facets import age_band_expression
from curation.search.params import AGE_BANDS

TOP = 20  # bars per chart (the largest counts); the table says when more exist


def _chart(key: str, title: str, label: str, rows: list[tuple[str, int]], note: str = ""):
    return {"key": key, "title": title, "label": label, "rows": rows, "note": note}


def _top_terms(published, term: str) -> list[tuple[str, int]]:
    """The TOP vocabulary terms (by name) that most published cases have, most first."""
    rows = (
        published.filter(**{f"{term}__isnull": False})
        .values(f"{term}__name")
        .annotate(n=Count("pk"))
        .order_by("-n", f"{term}__name")[:TOP]
    )
    return [(r[f"{term}__name"], r["n"]) for r in rows]


def registry_stats(*, retracted: bool = False) -> list[dict]:
    """Every number of the page: one GROUP BY query per chart, computed in the database.

    The cases of retracted papers count only with `retracted` (Case.objects.counted).
    """
    published = Case.objects.counted(retracted=retracted).order_by()
    charts = []

    charts.append(
        _chart(
            "diagnosis",
            "Cases by diagnosis",
            "Diagnosis",
            _top_terms(published, "final_diagnosis"),
        )
    )
    charts.append(
        _chart(
            "family",
            "Cases by WHO family",
            "WHO family",
            _top_terms(published, "final_diagnosis__family"),
            note="The family of the final diagnosis in the WHO classification (5th edition).",
        )
    )

    rows = (
        published.filter(topography__isnull=False)
        .values("topography__code", "topography__name")
        .annotate(n=Count("pk"))
        .order_by("topography__code")
    )
    charts.append(
        _chart(
            "site",
            "Cases by site",
            "Site (ICD-O-3)",
            [(f"{r['topography__code']} {r['topography__name']}", r["n"]) for r in rows],
        )
    )

    rows = (
        FusionFinding.objects.filter(case__in=published.values("pk"))
        .order_by()
        .values("five_prime_gene__symbol", "three_prime_gene__symbol")
        .annotate(n=Count("case", distinct=True))
        .order_by("-n", "three_prime_gene__symbol", "five_prime_gene__symbol")[:TOP]
    )
    charts.append(
        _chart(
            "fusion",
            "Cases by fusion",
            "Fusion",
            [
                (f"{r['five_prime_gene__symbol'] or '?'}::{r['three_prime_gene__symbol']}", r["n"])
                for r in rows
            ],
            note="“?” is an unknown 5' partner (a break-apart FISH).",
        )
    )

    rows = published.values("evidence_grade").annotate(n=Count("pk"))
    grades = {r["evidence_grade"]: r["n"] for r in rows}
    charts.append(
        _chart(
            "grade",
            "Cases by evidence grade",
            "Grade",
            [(label, grades.get(code, 0)) for code, label in Case.Grade.choices],
            note="How sure the diagnosis is, from the findings recorded (see the README).",
        )
    )

    followed = published.filter(follow_up_months__isnull=False)
    events = (
        ClinicalEvent.objects.filter(case__in=followed.values("pk"))
        .order_by()
        .values("kind")
        .annotate(n=Count("case", distinct=True))
    )
    with_event = {r["kind"]: r["n"] for r in events}
    n_followed = followed.count()
    metastasis = sum(
        with_event.get(kind, 0)
        for kind in ("regional_metastasis", "distant_metastasis", "metastasis")
    )
    course = [
        ("Followed up", n_followed),
        ("Local recurrence", with_event.get("local_recurrence", 0)),
        ("Metastasis (regional or distant)", metastasis),
        ("Died of disease", with_event.get("death_of_disease", 0)),
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

    rows = (
        published.filter(age__isnull=False)
        .annotate(band=age_band_expression())
        .values("band")
        .annotate(n=Count("pk"))
    )
    counts = {r["band"]: r["n"] for r in rows}
    charts.append(
        _chart(
            "age",
            "Age at diagnosis",
            "Age",
            [(label, counts.get(key, 0)) for key, label, _, _ in AGE_BANDS],
        )
    )

    rows = (
        published.filter(citation__year__isnull=False)
        .values("citation__year")
        .annotate(n=Count("citation", distinct=True))
        .order_by("citation__year")
    )
    charts.append(
        _chart(
            "year",
            "Case reports per publication year",
            "Year",
            [(str(r["citation__year"]), r["n"]) for r in rows],
            note="Papers with at least one published case, by the year PubMed gives.",
        )
    )
    return charts
