"""The vocabulary load (migration 0008) corrects databases loaded by earlier versions.

Each test puts back what an earlier RareDerm shipped (or what import_hgnc made
of it), runs the load as the migration does, and checks the correction, with
nothing lost: cases keep their diagnosis, under its one entity.
"""

import pytest
from django.apps import apps

from curation.models import Diagnosis, Gene, GeneSymbol, Marker
from curation.models.vocabulary import symbol_rows
from curation.vocabularies import load_vocabularies
from tests.factories import CaseFactory, diagnosis

pytestmark = pytest.mark.django_db


def test_mlana_shipped_with_mlf1s_id_is_corrected():
    mlana = Gene.objects.get(symbol="MLANA")
    Gene.objects.filter(pk=mlana.pk).update(hgnc_id="HGNC:7125")
    load_vocabularies(apps)
    mlana.refresh_from_db()
    assert mlana.hgnc_id == "HGNC:7124"
    assert Marker.objects.get(name="Melan-A").gene == mlana


def test_melan_a_moved_to_mlf1_by_an_hgnc_import_points_at_mlana_again():
    # What import_hgnc did with the wrong id: the row became MLF1, MLANA was created.
    wrong = Gene.objects.get(symbol="MLANA")
    Gene.objects.filter(pk=wrong.pk).update(
        hgnc_id="HGNC:7125", symbol="MLF1", name="myeloid leukemia factor 1"
    )
    real = Gene.objects.create(hgnc_id="HGNC:7124", symbol="MLANA", name="melan-A")
    Marker.objects.filter(name="Melan-A").update(gene=wrong)
    load_vocabularies(apps)
    assert Marker.objects.get(name="Melan-A").gene == real
    assert Gene.objects.get(hgnc_id="HGNC:7125").symbol == "MLF1"


def test_atypical_fibroxanthoma_gets_its_code():
    Diagnosis.objects.filter(name="atypical fibroxanthoma").update(icdo3_code="")
    load_vocabularies(apps)
    assert diagnosis("atypical fibroxanthoma").icdo3_code == "8830/1"


def test_imt_synonyms_that_are_wider_entities_become_search_terms():
    Diagnosis.objects.filter(name="inflammatory myofibroblastic tumor").update(
        synonyms=["IMT", "inflammatory pseudotumor", "plasma cell granuloma"], search_terms=[]
    )
    load_vocabularies(apps)
    imt = diagnosis("inflammatory myofibroblastic tumor")
    assert "inflammatory pseudotumor" not in imt.synonyms
    assert "plasma cell granuloma" not in imt.synonyms
    assert {"inflammatory pseudotumor", "plasma cell granuloma"} <= set(imt.search_terms)


def test_benign_fibrous_histiocytoma_cases_move_to_dermatofibroma_and_nothing_is_lost():
    bfh = Diagnosis.objects.create(
        name="benign fibrous histiocytoma", icdo3_code="8830/0", synonyms=["BFH (old)"]
    )
    df = diagnosis("dermatofibroma")
    final = CaseFactory(final_diagnosis=bfh)
    initial = CaseFactory(initial_diagnosis=bfh, final_diagnosis=df)
    both = CaseFactory(final_diagnosis=df)
    both.differentials.set([bfh, df])
    only = CaseFactory(final_diagnosis=df)
    only.differentials.set([bfh])

    load_vocabularies(apps)

    assert not Diagnosis.objects.filter(pk=bfh.pk).exists()
    for case in (final, initial, both, only):
        case.refresh_from_db()
    assert final.final_diagnosis == df
    assert initial.initial_diagnosis == df
    assert list(both.differentials.all()) == [df]
    assert list(only.differentials.all()) == [df]
    df.refresh_from_db()
    assert "benign fibrous histiocytoma" in df.synonyms and "BFH (old)" in df.synonyms


def test_loading_twice_changes_nothing():
    load_vocabularies(apps)
    before = list(Diagnosis.objects.order_by("pk").values())
    symbols = GeneSymbol.objects.count()
    load_vocabularies(apps)
    assert list(Diagnosis.objects.order_by("pk").values()) == before
    assert GeneSymbol.objects.count() == symbols
    assert symbols == sum(len(symbol_rows(GeneSymbol, g)) for g in Gene.objects.all())
