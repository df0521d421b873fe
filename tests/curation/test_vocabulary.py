"""The shipped vocabularies (data migration) and the database-backed resolver."""

import pytest
from django.db import IntegrityError, transaction

from curation.forms.fields import Diagnoses, Markers
from curation.models import (
    Diagnosis,
    DiagnosisFamily,
    Gene,
    GeneSymbol,
    Marker,
    Topography,
    VocabularyVersion,
    resolve_gene,
)

pytestmark = pytest.mark.django_db


def test_the_spindle_cell_differential_has_its_icd_o_3_2_codes():
    codes = dict(Diagnosis.objects.values_list("name", "icdo3_code"))
    assert codes["inflammatory myofibroblastic tumor"] == "8825/1"
    assert codes["dermatofibroma"] == "8832/0"
    assert codes["dermatofibrosarcoma protuberans"] == "8832/1"
    assert codes["nodular fasciitis"] == "8828/0"
    assert codes["spindle cell squamous cell carcinoma"] == "8074/3"
    assert codes["atypical fibroxanthoma"] == "8830/1"
    # New in the WHO 5th edition, not in ICD-O-3.2: left without a code, not guessed.
    assert codes["superficial CD34-positive fibroblastic tumor"] == ""
    assert len(codes) > 250
    version = VocabularyVersion.objects.get(vocabulary="diagnosis")
    assert version.code_system == "ICD-O-3.2"


def test_diagnoses_sit_in_the_who_hierarchy():
    efh = Diagnosis.objects.select_related("family__category", "parent").get(
        name="epithelioid fibrous histiocytoma"
    )
    assert efh.rank == "subtype" and efh.parent.name == "dermatofibroma"
    assert efh.family.name == "Fibrohistiocytic tumours"
    assert efh.family.category.name.startswith("Fibroblastic, fibrohistiocytic")
    spitz = Diagnosis.objects.get(name="Spitz melanoma")
    assert spitz.family.name == "Spitz tumours" and spitz.behaviour == "malignant"
    families = set(DiagnosisFamily.objects.values_list("name", flat=True))
    for family in (
        "Myofibroblastic tumours",
        "Benign vascular tumours",
        "Melanocytomas",
        "Tumours with apocrine and eccrine differentiation, benign",
        "Merkel cell carcinoma",
        "Nerve sheath tumours",
        "Adipocytic tumours",
        "Tumours of uncertain differentiation",
        "Pericytic (perivascular) tumours",
    ):
        assert family in families


def test_search_terms_of_imt_are_not_names_a_diagnosis_resolves_to():
    imt = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    assert "inflammatory pseudotumor" in imt.search_terms
    assert "plasma cell granuloma" in imt.search_terms
    assert "inflammatory pseudotumor" not in imt.synonyms
    vocabulary = Diagnoses()
    assert vocabulary.find("inflammatory pseudotumor") is None
    assert vocabulary.find("plasma cell granuloma") is None
    assert vocabulary.find("inflammatory myofibroblastic tumour") == imt


def test_dermatofibroma_and_benign_fibrous_histiocytoma_are_one_entity():
    assert not Diagnosis.objects.filter(name__iexact="benign fibrous histiocytoma").exists()
    df = Diagnosis.objects.get(name="dermatofibroma")
    assert Diagnoses().find("benign fibrous histiocytoma") == df
    assert Diagnoses().find("fibrous histiocytoma") == df


def test_a_code_several_diagnoses_share_resolves_to_none_of_them():
    assert Diagnosis.objects.filter(icdo3_code="9120/0").count() > 1
    assert Diagnoses().find("9120/0") is None
    assert Diagnoses().find("8247/3").name == "Merkel cell carcinoma"


def test_topography_covers_skin_and_soft_tissue_sites():
    codes = set(Topography.objects.values_list("code", flat=True))
    assert {f"C44.{i}" for i in range(10)} <= codes
    # ICD-O-3 has no C49.7.
    assert {"C49.0", "C49.6", "C49.8", "C49.9"} <= codes and "C49.7" not in codes
    assert Topography.objects.get(code="C44.4").name == "Skin of scalp and neck"
    # Skin-bearing sites coded outside C44, and peripheral nerves.
    assert {"C00.0", "C00.1", "C00.2", "C50.0", "C63.2", "C69.0"} <= codes
    assert {f"C51.{i}" for i in (0, 1, 2, 8, 9)} <= codes
    assert {f"C60.{i}" for i in (0, 1, 2, 8, 9)} <= codes
    assert {f"C47.{i}" for i in (0, 1, 2, 3, 4, 5, 6, 8, 9)} <= codes
    assert Topography.objects.get(code="C63.2").name == "Scrotum, NOS"


def test_markers_name_their_gene_and_clones_are_not_genes():
    assert Marker.objects.get(name="HMB-45").gene.symbol == "PMEL"
    assert Marker.objects.get(name="factor XIIIa").gene.symbol == "F13A1"
    assert Marker.objects.get(name="pan-cytokeratin (AE1/AE3)").gene is None
    for clone in ("5A4", "D5F3", "ALK1"):
        assert not GeneSymbol.objects.filter(key=clone).exists()
        assert not Marker.objects.filter(name__iexact=clone).exists()
    alk = Marker.objects.get(name="ALK")
    assert set(alk.clones.values_list("name", flat=True)) == {"ALK1", "5A4", "D5F3"}
    assert all(c.source for c in alk.clones.all())
    assert Marker.objects.get(name="pan-TRK").clones.filter(name="EPR17341").exists()


def test_melan_a_is_mlana_hgnc_7124_not_mlf1():
    melan_a = Marker.objects.select_related("gene").get(name="Melan-A")
    assert (melan_a.gene.symbol, melan_a.gene.hgnc_id) == ("MLANA", "HGNC:7124")


def test_mic2_finds_cd99_as_marker_and_gene():
    assert Markers().find("MIC2").name == "CD99"
    assert resolve_gene("MIC2").gene.symbol == "CD99"


def test_papers_fusion_spellings_resolve_to_current_symbols():
    from curation.actions.cases import resolve_fusion_text

    for written, expected in (
        ("NPM-ALK", "NPM1::ALK"),
        ("CLTCL2-ALK", "CLTC::ALK"),
        ("SQSTM1-ALK", "SQSTM1::ALK"),
        ("CRTC1-MAML2", "CRTC1::MAML2"),
        ("YAP1-NUTM1", "YAP1::NUTM1"),
        ("C11orf95-RELA", "ZFTA::RELA"),
    ):
        found = resolve_fusion_text(written)
        assert found.resolved, (written, found.messages)
        fields = found.as_fields()
        assert (
            f"{fields['five_prime_gene'].symbol}::{fields['three_prime_gene'].symbol}" == expected
        )


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
