"""Answers: the diagnoses (the WHO tree and one page per entity) and the stains that
separate two to four diagnoses. Public, published cases only."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import Http404
from django.shortcuts import render

from curation.models import Diagnosis
from curation.retractions import retracted_note
from curation.search import bitmaps
from curation.search import cache as search_cache
from curation.search.answers import (
    FEW_TESTED,
    MAX_DIAGNOSES,
    diagnosis_slug,
    diagnosis_tree,
    entity_summary,
    find_diagnosis,
    separating_stains,
)
from curation.search.pagecache import kept_per_generation


@kept_per_generation
def diagnoses(request):
    note = retracted_note(request)
    retracted = note["included"]
    tree = search_cache.cached(
        "diagnosis-tree",
        [retracted],
        lambda: diagnosis_tree(retracted=retracted),
        bypass=search_cache.bypassed(request.GET),
        background=True,
    )
    return render(
        request, "curation/answers/diagnoses.html", {"tree": tree, "retracted_note": note}
    )


@kept_per_generation
def diagnosis(request, slug: str):
    found = find_diagnosis(slug)
    if found is None:
        raise Http404("No such diagnosis in RareDerm's list.")
    note = retracted_note(request)
    retracted = note["included"]
    # Recounted once per registry generation (curation/search/cache.py), not per request.
    summary = bitmaps.cached(
        "entity",
        [found.pk, retracted],
        lambda index: entity_summary(found, retracted=retracted, index=index),
        bypass=search_cache.bypassed(request.GET),
        background=True,
    )
    subscription = ""
    if request.user.is_authenticated:
        # The entity's cases, its subtypes' included, as the page counts them.
        ids = [found.pk, *Diagnosis.objects.filter(parent=found).values_list("pk", flat=True)]
        subscription = urlencode([("dx", pk) for pk in ids])
    return render(
        request,
        "curation/answers/diagnosis.html",
        {
            **summary,
            "slug": diagnosis_slug(found),
            "few_tested": FEW_TESTED,
            "retracted_note": note,
            "sub_kind": "diagnosis",
            "sub_query": subscription,
            "sub_label": found.name,
        },
    )


@kept_per_generation
def stains(request):
    """/stains/?dx=<slug>&dx=<slug>[...]: two to four diagnoses; anything else is
    explained (400) and nothing is compared."""
    slugs = [s for s in request.GET.getlist("dx")[:20] if s.strip()]
    chosen, errors = [], []
    for slug in slugs:
        found = find_diagnosis(slug)
        if found is None:
            errors.append(f"“{slug[:60]}” is not a diagnosis in RareDerm's list.")
        elif found not in chosen:
            chosen.append(found)
    prompt = ""
    if not errors and len(chosen) == 1:
        # From an entity page ("Compare its stains"): not a mistake, a first choice.
        prompt = (
            f"Choose one to {MAX_DIAGNOSES - 1} more diagnoses to compare with {chosen[0].name}."
        )
    elif not errors and not 2 <= len(chosen) <= MAX_DIAGNOSES:
        errors.append(
            f"Choose two to {MAX_DIAGNOSES} different diagnoses to compare ({len(chosen)} given)."
        )
    note = retracted_note(request)
    retracted = note["included"]
    bypass = search_cache.bypassed(request.GET)
    rows = []
    if not (errors or prompt):
        rows = bitmaps.cached(
            "stains",
            [[d.pk for d in chosen], retracted],
            lambda index: separating_stains(chosen, retracted=retracted, index=index),
            bypass=bypass,
            background=True,
        )
    tree = search_cache.cached(
        "diagnosis-tree",
        [retracted],
        lambda: diagnosis_tree(retracted=retracted),
        bypass=bypass,
        background=True,
    )
    return render(
        request,
        "curation/answers/stains.html",
        {
            "diagnoses": chosen,
            "slugs": [diagnosis_slug(d) for d in chosen],
            "rows": rows,
            "errors": errors,
            "prompt": prompt,
            "few_tested": FEW_TESTED,
            "tree": tree,
            "retracted_note": note,
        },
        status=400 if errors and slugs else 200,
    )
