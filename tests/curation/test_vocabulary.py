"""The shipped vocabularies (data migration) and the database-backed resolver."""

import pytest
from django.db import IntegrityError, transaction

from curation.models import Diagnosis, Gene, GeneSymbol, Marker, Topography, resolve_gene

pytestmark = pytest.mark.django_db


def test_the_spindle_cell_differential_has_its_icd_o_3_codes():
    codes = dict(Diagnosis.objects.values_list("name", "icdo3_code"))
    assert codes["inflammatory myofibroblastic tumor"] == "8825/1"
    assert codes["dermatofibroma"] == "8832/0"
    assert codes["dermatofibrosarcoma protuberans"] == "8832/1"
    assert codes["spindle cell squamous cell carcinoma"] == "8074/3"
    # Not certain of its code: left empty rather than guessed.
    assert codes["atypical fibroxanthoma"] == ""
    assert len(codes) == 14


def test_topography_covers_skin_and_soft_tissue_sites():
    codes = set(Topography.objects.values_list("code", flat=True))
    assert {f"C44.{i}" for i in range(10)} <= codes
    # ICD-O-3 has no C49.7.
    assert {"C49.0", "C49.6", "C49.8", "C49.9"} <= codes and "C49.7" not in codes
    assert Topography.objects.get(code="C44.4").name == "Skin of scalp and neck"


def test_markers_name_their_gene_and_clones_are_not_genes():
    assert Marker.objects.get(name="HMB-45").gene.symbol == "PMEL"
    assert Marker.objects.get(name="factor XIIIa").gene.symbol == "F13A1"
    assert Marker.objects.get(name="pan-cytokeratin (AE1/AE3)").gene is None
    for clone in ("5A4", "D5F3", "ALK1"):
        assert not GeneSymbol.objects.filter(key=clone).exists()
        assert not Marker.objects.filter(name__iexact=clone).exists()


def test_cars_resolves_to_cars1_and_never_cars2_in_the_database():
    found = resolve_gene("CARS")
    assert found.gene.symbol == "CARS1"
    assert found.gene.hgnc_id == "HGNC:1493"
    assert Gene.objects.filter(symbol="CARS2").exists()


def test_sec31l1_resolves_to_sec31a_in_the_database():
    assert resolve_gene("SEC31L1").gene.symbol == "SEC31A"


def test_an_ambiguous_alias_in_the_database_is_returned_with_its_candidates():
    Gene.objects.create(hgnc_id="HGNC:900001", symbol="TESTA1", alias_symbols=["TWIN"])
    Gene.objects.create(hgnc_id="HGNC:900002", symbol="TESTB1", alias_symbols=["TWIN"])
    found = resolve_gene("twin")
    assert found.gene is None
    assert found.resolution.status == "ambiguous"
    assert {g.symbol for g in found.candidates} == {"TESTA1", "TESTB1"}


def test_editing_a_genes_symbols_updates_the_lookup():
    gene = Gene.objects.get(symbol="ETV6")
    gene.alias_symbols = ["TEL", "TESTALIAS"]
    gene.save()
    assert resolve_gene("TESTALIAS").gene == gene


def test_gene_symbols_and_hgnc_ids_are_unique_and_well_formed():
    with pytest.raises(IntegrityError), transaction.atomic():
        Gene.objects.create(symbol="alk")
    with pytest.raises(IntegrityError), transaction.atomic():
        Gene.objects.create(symbol="NEWX", hgnc_id="HGNC:427")
    with pytest.raises(IntegrityError), transaction.atomic():
        Gene.objects.create(symbol="NEWY", hgnc_id="427")


def test_hostile_symbols_resolve_to_nothing_with_a_message():
    for junk in ("", "A" * 2000, "ALK; DROP TABLE curation_gene", "\u2013"):
        found = resolve_gene(junk)
        assert found.gene is None and found.resolution.message
