"""The starting list of exclusion reasons and highlighted terms (reviewers edit them afterwards).

Reasons: the fixed list of issue 16 ("not a case report, not a skin or
soft-tissue tumour, not rare, duplicate patient, not in English"). Terms: the
entity of the founding case, cutaneous inflammatory myofibroblastic tumour, as
issue 16's example saved query spells it ("inflammatory myofibroblastic
tumor"[tiab] OR "Granuloma, Plasma Cell"[mh]), with the British spelling and
its fusion gene ALK.
"""

REASONS = [
    "Not a case report",
    "Not a skin or soft-tissue tumour",
    "Not rare",
    "Duplicate patient",
    "Not in English",
]
TERMS = [
    "inflammatory myofibroblastic tumor",
    "inflammatory myofibroblastic tumour",
    "plasma cell granuloma",
    "ALK",
]


def seed_lists(apps) -> bool:
    """Create the starting lists if there are no reasons yet (migration, after a test flush)."""
    ExclusionReason = apps.get_model("screening", "ExclusionReason")
    HighlightTerm = apps.get_model("screening", "HighlightTerm")
    if ExclusionReason.objects.exists():
        return False
    for position, label in enumerate(REASONS, start=1):
        ExclusionReason.objects.get_or_create(label=label, defaults={"position": position})
    for term in TERMS:
        HighlightTerm.objects.get_or_create(term=term)
    return True


def ensure_lists() -> bool:
    from django.apps import apps

    return seed_lists(apps)
