"""Words in the search box find the structured record (issue 15 §1): diagnoses, genes of
every finding, IHC markers, `ALK+` written in the box, and both spellings of a word."""

import pytest
from django.urls import reverse

from curation.models import Case, FusionFinding, Gene, IHCResult, Marker, MolecularFinding
from tests.curation.searchdata import build_registry, case_ids
from tests.factories import make_published_case

pytestmark = pytest.mark.django_db
URL = reverse("curation:search")


@pytest.fixture
def registry(db):
    cases = build_registry()
    cases["braf"] = make_published_case(  # an IMT too (the factory's diagnosis)
        fusions=[],
        ihc=[("S100", "positive")],
        molecular=[("variant", "BRAF", {"hgvs_protein": "V600E", "method": "dna_panel"})],
    )
    return cases


def _found(client, q) -> set[int]:
    return set(case_ids(client.get(URL, {"q": q, "per_page": 100})))


@pytest.mark.parametrize(
    ("q", "names"),
    [
        ("IMT", {"scalp_imt", "trunk_imt", "infant", "braf"}),
        ("inflammatory myofibroblastic tumour", {"scalp_imt", "trunk_imt", "infant", "braf"}),
        ("TPM3", {"trunk_imt"}),
        ("BRAF", {"braf"}),
        ("PDGFB", {"dfsp"}),
        ("desmin", {"trunk_imt"}),
        ("ALK+", {"scalp_imt", "trunk_imt", "infant"}),
        ("S100 negative", {"scalp_imt", "dfsp"}),
        ("ALK+ SMA-", {"trunk_imt"}),
    ],
)
def test_a_word_finds_the_cases_whose_record_names_it(client, registry, q, names):
    assert _found(client, q) == {registry[n].pk for n in names}


def test_every_gene_and_marker_finds_at_least_what_its_facet_counts(client, registry):
    """The rule of issue 15: searching a name finds every case its facet counts."""
    published = Case.objects.published()
    for gene in Gene.objects.filter(
        pk__in=FusionFinding.objects.filter(case__in=published).values("three_prime_gene")
    ) | Gene.objects.filter(
        pk__in=MolecularFinding.objects.filter(case__in=published).values("gene")
    ):
        counted = set(
            published.filter(fusions__three_prime_gene=gene).values_list("pk", flat=True)
        ) | set(published.filter(molecular_findings__gene=gene).values_list("pk", flat=True))
        assert counted <= _found(client, gene.symbol), gene.symbol
    for marker in Marker.objects.filter(
        pk__in=IHCResult.objects.filter(case__in=published).values("marker")
    ):
        counted = set(
            published.filter(
                ihc_results__marker=marker, ihc_results__result__in=["positive", "negative"]
            ).values_list("pk", flat=True)
        )
        assert counted <= _found(client, marker.name), marker.name


def test_a_case_whose_record_names_the_word_comes_first(client, registry):
    registry["dfsp"].citation.abstract = [
        {"label": "", "category": "", "text": "Unlike IMT, it was ALK negative."}
    ]
    registry["dfsp"].citation.save()
    ids = case_ids(client.get(URL, {"q": "IMT"}))
    assert ids[-1] == registry["dfsp"].pk  # its abstract only says the word
    assert set(ids[:4]) == {registry[n].pk for n in ("scalp_imt", "trunk_imt", "infant", "braf")}


def test_british_and_american_spellings_find_each_other(client, registry):
    registry["dfsp"].citation.title = "A fibrohistiocytic tumour of the chest wall"
    registry["dfsp"].citation.save()
    assert registry["dfsp"].pk in _found(client, "fibrohistiocytic tumor")
    assert registry["dfsp"].pk in _found(client, "fibrohistiocytic tumour")


@pytest.mark.parametrize("q", ["IMT", "inflammatory myofibroblastic tumour"])
def test_words_that_name_a_diagnosis_link_to_its_entity_page(client, registry, q):
    response = client.get(URL, {"q": q})
    assert response.context["named"] == [
        ("inflammatory myofibroblastic tumor", "inflammatory-myofibroblastic-tumor")
    ]
    assert 'href="/diagnoses/inflammatory-myofibroblastic-tumor/"' in response.content.decode()


def test_words_that_name_no_diagnosis_link_to_none(client, registry):
    response = client.get(URL, {"q": "scalp"})
    assert response.context["named"] == []
    assert "data-named" not in response.content.decode()
