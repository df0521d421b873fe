"""Saved PubMed searches for the diagnosis families of the vocabulary, shipped disabled.

The query is built from the vocabulary's own names: every name, synonym and older name
of each diagnosis (entity and subtype) in the family, as a [tiab] phrase, joined with OR
and limited to the skin the way issue 16's example query for cutaneous IMT does
(skin[tiab] OR cutaneous[tiab] OR "Skin Neoplasms"[mh]). No codes: PubMed's text words
only. Each is saved through citations.actions.searches.add_saved_search, so PubMed is
asked first, and saved disabled until a reviewer enables it on the saved-search page.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

from citations.actions.searches import add_saved_search
from citations.models import SavedSearch
from curation.models import Diagnosis, DiagnosisFamily

SKIN = '(skin[tiab] OR cutaneous[tiab] OR "Skin Neoplasms"[mh])'  # issue 16's example
PREFIX = "Family: "


def family_query(family: DiagnosisFamily) -> str:
    """The family's names as [tiab] phrases OR'd, AND the skin limit; "" if it has none."""
    seen: dict[str, str] = {}
    for diagnosis in Diagnosis.objects.filter(family=family).order_by("name", "pk"):
        for name in diagnosis.resolving_names():
            # A double quote would end PubMed's phrase early: it goes, the words stay.
            phrase = " ".join(str(name).replace('"', " ").split())
            if phrase:
                seen.setdefault(phrase.lower(), phrase)
    if not seen:
        return ""
    terms = " OR ".join(f'"{phrase}"[tiab]' for phrase in seen.values())
    return f"({terms}) AND {SKIN}"


def add_family_searches(*, by=None) -> dict[str, list]:
    """One disabled saved search per family that has none yet: {"added", "skipped", "refused"}
    (refused: (name, PubMed's message) for a query PubMed would not take)."""
    result: dict[str, list] = {"added": [], "skipped": [], "refused": []}
    for family in DiagnosisFamily.objects.order_by("position", "name"):
        name = f"{PREFIX}{family.name}"[:100]
        query = family_query(family)
        if not query or SavedSearch.objects.filter(name=name).exists():
            result["skipped"].append(name)
            continue
        try:
            add_saved_search(name, query, by=by, enabled=False, confirm_large=True)
        except ValidationError as exc:
            result["refused"].append((name, "; ".join(exc.messages)))
            continue
        result["added"].append(name)
    return result
