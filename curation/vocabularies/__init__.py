"""The shipped vocabularies (the JSON files beside this module) and their loader.

`load_vocabularies(apps)` is what migration 0003 runs; it is idempotent (rows
are matched by natural key and updated), so tests whose database was flushed
(transactional tests) can call `ensure_vocabularies()` to get them back.
"""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent


def _read(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_vocabularies(apps, schema_editor=None):
    from curation.models.vocabulary import symbol_rows

    Diagnosis = apps.get_model("curation", "Diagnosis")
    Topography = apps.get_model("curation", "Topography")
    Gene = apps.get_model("curation", "Gene")
    GeneSymbol = apps.get_model("curation", "GeneSymbol")
    Marker = apps.get_model("curation", "Marker")

    for row in _read("diagnoses.json"):
        Diagnosis.objects.update_or_create(
            name__iexact=row["name"],
            defaults={
                "name": row["name"],
                "icdo3_code": row["icdo3_code"],
                "synonyms": row["synonyms"],
            },
        )
    for row in _read("topography.json"):
        Topography.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})
    for row in _read("genes.json"):
        gene, _ = Gene.objects.update_or_create(
            symbol__iexact=row["symbol"],
            defaults={
                "symbol": row["symbol"],
                "hgnc_id": row["hgnc_id"],
                "name": row["name"],
                "previous_symbols": row["previous_symbols"],
                "alias_symbols": row["alias_symbols"],
            },
        )
        GeneSymbol.objects.filter(gene=gene).delete()
        GeneSymbol.objects.bulk_create(symbol_rows(GeneSymbol, gene))
    for row in _read("markers.json"):
        gene = Gene.objects.get(symbol=row["gene"]) if row["gene"] else None
        Marker.objects.update_or_create(
            name__iexact=row["name"],
            defaults={"name": row["name"], "gene": gene, "synonyms": row["synonyms"]},
        )


def ensure_vocabularies() -> bool:
    """Load the vocabularies if the database has none (after a flush); True if loaded."""
    from django.apps import apps

    from curation.models import Diagnosis

    if Diagnosis.objects.exists():
        return False
    load_vocabularies(apps)
    return True
