"""Load the ICD-O-3.2 / WHO 5th-edition vocabularies and correct what earlier versions shipped.

Works on a fresh database and on one loaded by 0003 (and edited since):
- MLANA carried HGNC:7125 (MLF1); it is HGNC:7124, and Melan-A points at it;
- atypical fibroxanthoma gets its ICD-O-3.2 code 8830/1;
- "inflammatory pseudotumor" and "plasma cell granuloma" stop being synonyms of
  IMT (names a diagnosis resolves to) and become its search terms;
- "benign fibrous histiocytoma" is merged into dermatofibroma (its cases,
  differentials and subtypes re-pointed, its names kept as synonyms);
- staining patterns typed as free text become the controlled list (text that
  matches none is kept in "as reported", the pattern set to "other");
- IHC results whose clone is a known clone of their marker point at it.
Reversing leaves the rows in place: cases may point at them.
"""

import re

from django.db import migrations

from curation.vocabularies import link_clones, load_vocabularies

# Free-text patterns as curators typed them -> the controlled list.
PATTERNS = [
    (r"perinuclear|dot", "perinuclear_dot"),
    (r"granular", "cytoplasmic_granular"),
    (r"nuclear\s*membran", "nuclear_membranous"),
    (r"(nuclear.*cytoplasm|cytoplasm.*nuclear)", "nuclear_cytoplasmic"),
    (r"(membran.*cytoplasm|cytoplasm.*membran)", "membranous_cytoplasmic"),
    (r"loss", "loss"),
    (r"membran", "membranous"),
    (r"cytoplasm", "cytoplasmic"),
    (r"nucle", "nuclear"),
]
CODES = {
    "membranous",
    "cytoplasmic",
    "cytoplasmic_granular",
    "membranous_cytoplasmic",
    "nuclear",
    "nuclear_cytoplasmic",
    "nuclear_membranous",
    "perinuclear_dot",
    "loss",
    "other",
}


def pattern_code(text: str) -> str:
    folded = " ".join(text.lower().split())
    for regex, code in PATTERNS:
        if re.search(regex, folded):
            return code
    return "other"


def controlled_patterns(apps, schema_editor):
    IHCResult = apps.get_model("curation", "IHCResult")
    for result in IHCResult.objects.exclude(pattern="").exclude(pattern__in=CODES):
        code = pattern_code(result.pattern)
        if " ".join(result.pattern.lower().split()).replace(" ", "_") != code:
            note = f"Pattern as entered: {result.pattern}"
            result.as_reported = f"{result.as_reported} ({note})" if result.as_reported else note
        result.pattern = code
        result.save(update_fields=["pattern", "as_reported"])


class Migration(migrations.Migration):
    dependencies = [("curation", "0007_vocabularies_who_hierarchy_clones_proposals")]

    operations = [
        migrations.RunPython(controlled_patterns, migrations.RunPython.noop),
        migrations.RunPython(load_vocabularies, migrations.RunPython.noop),
        migrations.RunPython(link_clones, migrations.RunPython.noop),
    ]
