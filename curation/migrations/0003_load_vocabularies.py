"""Load the shipped vocabularies from curation/vocabularies/*.json.

Safe to run on a database that already has some of them (rows are matched
by their natural key and updated); reversing leaves the rows in place, since
cases may point at them.
"""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "vocabularies"


def _read(name):
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def load_vocabularies(apps, schema_editor):
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


class Migration(migrations.Migration):
    dependencies = [("curation", "0002_cases_and_vocabularies")]

    operations = [migrations.RunPython(load_vocabularies, migrations.RunPython.noop)]
