"""The shipped vocabularies (the JSON files beside this module) and their loader.

Each file has a `source` block (code system, version, the lists its terms
were checked against), stored as a VocabularyVersion row, and its terms, each
with the note of where its code was checked when that differs from the file's
source (`code_source`, `gene_source`, `source`).

`load_vocabularies(apps)` is what migration 0008 runs on fresh databases and
on databases loaded by earlier versions: rows are matched by natural key (a
gene by HGNC ID, then symbol) and updated, and it corrects what earlier
versions shipped wrong (a diagnosis listed under `replaces` is merged into the
entry, its cases re-pointed). Transactional tests, whose database was
flushed, get the vocabularies back with `ensure_vocabularies()`.
"""

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent
FILES = {
    "diagnosis": "diagnoses.json",
    "topography": "topography.json",
    "gene": "genes.json",
    "marker": "markers.json",
}


def read(name: str) -> dict:
    return json.loads((DATA / FILES[name]).read_text(encoding="utf-8"))


def walk_diagnoses(data: dict | None = None):
    """(category, family, entry, parent entry or None) for every diagnosis of the file."""
    data = data or read("diagnosis")
    for category in data["categories"]:
        for family in category["families"]:
            for entry in family["diagnoses"]:
                yield category, family, entry, None
                for sub in entry.get("subtypes", []):
                    yield category, family, sub, entry


def _fields(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


def _only_known(model, values: dict) -> dict:
    """The values a (historical) model has fields for: later files may know more."""
    known = _fields(model)
    return {k: v for k, v in values.items() if k in known}


def load_vocabularies(apps, schema_editor=None):
    _load_versions(apps)
    _load_topography(apps)
    _load_genes(apps)
    _load_diagnoses(apps)
    _load_markers(apps)
    # Bulk writes send no signals: cached search counts and labels start afresh.
    from curation.search.cache import bump

    bump()


def _load_versions(apps):
    VocabularyVersion = apps.get_model("curation", "VocabularyVersion")
    for name in FILES:
        source = read(name)["source"]
        VocabularyVersion.objects.update_or_create(
            vocabulary=name,
            defaults={
                "code_system": source["code_system"],
                "version": source["version"],
                "sources": source["sources"],
            },
        )


def _load_topography(apps):
    Topography = apps.get_model("curation", "Topography")
    existing = {t.code: t for t in Topography.objects.all()}
    to_create, to_update = [], []
    for row in read("topography")["topography"]:
        site = existing.get(row["code"])
        if site is None:
            to_create.append(Topography(code=row["code"], name=row["name"]))
        elif site.name != row["name"]:
            site.name = row["name"]
            to_update.append(site)
    Topography.objects.bulk_create(to_create)
    Topography.objects.bulk_update(to_update, ["name"])


def _load_genes(apps):
    from curation.models.vocabulary import symbol_rows

    Gene = apps.get_model("curation", "Gene")
    GeneSymbol = apps.get_model("curation", "GeneSymbol")
    by_id = {g.hgnc_id: g for g in Gene.objects.exclude(hgnc_id="")}
    by_symbol = {g.symbol.upper(): g for g in Gene.objects.all()}
    names = ["symbol", "hgnc_id", "name", "previous_symbols", "alias_symbols", "source"]
    names = [n for n in names if n in _fields(Gene)]
    to_create, to_update = [], []
    for row in read("gene")["genes"]:
        values = {
            "symbol": row["symbol"],
            "hgnc_id": row["hgnc_id"],
            "name": row["name"],
            "previous_symbols": row["previous_symbols"],
            "alias_symbols": row["alias_symbols"],
            "source": row.get("source", ""),
        }
        values = {n: values[n] for n in names}
        # The HGNC ID is a gene's identity; a row with the symbol but a wrong ID
        # (MLANA once shipped as HGNC:7125, which is MLF1) is corrected.
        gene = by_id.get(row["hgnc_id"]) or by_symbol.get(row["symbol"].upper())
        if gene is None:
            to_create.append(Gene(**values))
        elif any(getattr(gene, n) != v for n, v in values.items()):
            for n, v in values.items():
                setattr(gene, n, v)
            to_update.append(gene)
    Gene.objects.bulk_update(to_update, names, batch_size=500)
    created = Gene.objects.bulk_create(to_create, batch_size=500)
    touched = [g.pk for g in to_update] + [
        g.pk for g in Gene.objects.filter(hgnc_id__in=[g.hgnc_id for g in created])
    ]
    GeneSymbol.objects.filter(gene_id__in=touched).delete()
    GeneSymbol.objects.bulk_create(
        [r for g in Gene.objects.filter(pk__in=touched) for r in symbol_rows(GeneSymbol, g)],
        batch_size=1000,
    )


def _load_diagnoses(apps):
    Diagnosis = apps.get_model("curation", "Diagnosis")
    Category = apps.get_model("curation", "DiagnosisCategory")
    Family = apps.get_model("curation", "DiagnosisFamily")
    data = read("diagnosis")
    families = {}
    for c_pos, category in enumerate(data["categories"]):
        cat, _ = Category.objects.update_or_create(
            name__iexact=category["name"], defaults={"name": category["name"], "position": c_pos}
        )
        for f_pos, family in enumerate(category["families"]):
            families[family["name"]], _ = Family.objects.update_or_create(
                name__iexact=family["name"],
                defaults={"name": family["name"], "category": cat, "position": f_pos},
            )
    entries = list(walk_diagnoses(data))
    names = [
        "name",
        "icdo3_code",
        "family",
        "rank",
        "parent",
        "synonyms",
        "older_names",
        "search_terms",
        "source",
        "position",
    ]
    names = [n for n in names if n in _fields(Diagnosis)]
    saved = {d.name.lower(): d for d in Diagnosis.objects.all()}
    # Entities first, then subtypes (they point at their entity): two bulk passes.
    for want_subtypes in (False, True):
        to_create, to_update = [], []
        for position, (_, family, entry, parent) in enumerate(entries):
            if (parent is not None) != want_subtypes:
                continue
            values = {
                "name": entry["name"],
                "icdo3_code": entry["code"],
                "family": families[family["name"]],
                "rank": "subtype" if parent else "entity",
                "parent": saved[parent["name"].lower()] if parent else None,
                "synonyms": entry["synonyms"],
                "older_names": entry["older_names"],
                "search_terms": entry["search_terms"],
                "source": entry.get("code_source") or entry.get("code_note", ""),
                "position": position,
            }
            values = {n: values[n] for n in names}
            diagnosis = saved.get(entry["name"].lower())
            if diagnosis is None:
                to_create.append(Diagnosis(**values))
                continue
            if any(getattr(diagnosis, n) != v for n, v in values.items()):
                for n, v in values.items():
                    setattr(diagnosis, n, v)
                to_update.append(diagnosis)
        Diagnosis.objects.bulk_update(to_update, names, batch_size=500)
        for diagnosis in Diagnosis.objects.bulk_create(to_create, batch_size=500):
            saved[diagnosis.name.lower()] = diagnosis
        if to_create and not to_create[0].pk:  # a backend that returns no ids
            saved = {d.name.lower(): d for d in Diagnosis.objects.all()}
    for _, _, entry, _ in entries:
        for old_name in entry.get("replaces", []):
            merge_diagnosis(apps, old_name, into=saved[entry["name"].lower()])


def merge_diagnosis(apps, old_name: str, *, into) -> bool:
    """Fold the diagnosis named `old_name` into `into`: every case, differential,
    subtype and proposal that points at it is re-pointed, then the row goes.
    True if there was such a row."""
    Diagnosis = apps.get_model("curation", "Diagnosis")
    Case = apps.get_model("curation", "Case")
    old = Diagnosis.objects.filter(name__iexact=old_name).exclude(pk=into.pk).first()
    if old is None:
        return False
    Case.objects.filter(final_diagnosis=old).update(final_diagnosis=into)
    Case.objects.filter(initial_diagnosis=old).update(initial_diagnosis=into)
    Through = Case.differentials.through
    for link in Through.objects.filter(diagnosis=old):
        if Through.objects.filter(case_id=link.case_id, diagnosis=into).exists():
            link.delete()
        else:
            link.diagnosis = into
            link.save()
    Diagnosis.objects.filter(parent=old).update(parent=into)
    if "termproposal" in {
        m._meta.model_name for m in apps.get_app_config("curation").get_models()
    }:
        apps.get_model("curation", "TermProposal").objects.filter(diagnosis=old).update(
            diagnosis=into
        )
    names = [old.name, *(old.synonyms or [])]
    known = {n.lower() for n in [into.name, *into.synonyms, *into.older_names]}
    into.synonyms = [*into.synonyms, *(n for n in names if n.lower() not in known)]
    into.save()
    old.delete()
    return True


def _load_markers(apps):
    Marker = apps.get_model("curation", "Marker")
    Gene = apps.get_model("curation", "Gene")
    Clone = apps.get_model("curation", "Clone")
    rows = read("marker")["markers"]
    genes = {
        g.symbol: g for g in Gene.objects.filter(symbol__in=[r["gene"] for r in rows if r["gene"]])
    }
    names = [n for n in ("name", "gene", "synonyms", "source") if n in _fields(Marker)]
    existing = {m.name.lower(): m for m in Marker.objects.all()}
    to_create, to_update = [], []
    for row in rows:
        values = {
            "name": row["name"],
            "gene": genes[row["gene"]] if row["gene"] else None,
            "synonyms": row["synonyms"],
            "source": row.get("gene_source", ""),
        }
        values = {n: values[n] for n in names}
        marker = existing.get(row["name"].lower())
        if marker is None:
            to_create.append(Marker(**values))
        elif any(getattr(marker, n) != v for n, v in values.items()):
            for n, v in values.items():
                setattr(marker, n, v)
            to_update.append(marker)
    Marker.objects.bulk_update(to_update, names)
    Marker.objects.bulk_create(to_create)
    markers = {m.name.lower(): m for m in Marker.objects.all()}
    clones = {(c.marker_id, c.name.lower()): c for c in Clone.objects.all()}
    new_clones, changed_clones = [], []
    for row in rows:
        marker = markers[row["name"].lower()]
        for clone in row.get("clones", []):
            known = clones.get((marker.pk, clone["name"].lower()))
            if known is None:
                new_clones.append(Clone(marker=marker, name=clone["name"], source=clone["source"]))
            elif known.source != clone["source"]:
                known.source = clone["source"]
                changed_clones.append(known)
    Clone.objects.bulk_create(new_clones)
    Clone.objects.bulk_update(changed_clones, ["source"])


def link_clones(apps, schema_editor=None):
    """IHC results whose clone text is one of their marker's known clones point at it."""
    IHCResult = apps.get_model("curation", "IHCResult")
    Clone = apps.get_model("curation", "Clone")
    clones = {(c.marker_id, c.name.lower()): c for c in Clone.objects.all()}
    for result in IHCResult.objects.exclude(clone="").filter(clone_term__isnull=True):
        clone = clones.get((result.marker_id, result.clone.strip().lower()))
        if clone is not None:
            result.clone_term = clone
            result.save(update_fields=["clone_term"])


def ensure_vocabularies() -> bool:
    """Load the vocabularies if the database has none (after a flush); True if loaded."""
    from django.apps import apps

    from curation.models import Diagnosis

    if Diagnosis.objects.exists():
        return False
    load_vocabularies(apps)
    return True
