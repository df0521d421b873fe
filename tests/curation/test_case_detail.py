"""The public case page (curation.views.cases.case_detail)."""

import pytest
from django.urls import reverse

from curation.actions.cases import transition
from curation.models import Case
from tests.factories import CaseFactory, CitationFactory, diagnosis, make_published_case

pytestmark = pytest.mark.django_db


def _url(case):
    return reverse("curation:case_detail", args=[case.pk])


def test_a_published_case_shows_its_summary_at_a_glance(client):
    citation = CitationFactory(
        pmid=35560368,
        doi="10.1111/cup.14261",
        pmcid="PMC9999999",
        title="Cutaneous inflammatory myofibroblastic tumor with <i>CARS-ALK</i> fusion.",
        authors=[("McCollum", "KJ"), ("Al-Rohil", "RN")],
    )
    case = make_published_case(
        citation=citation,
        fusions=["CARS-ALK"],
        ihc=[
            ("ALK", "positive", {"intensity": "strong", "extent": "diffuse", "clone": "D5F3"}),
            ("SOX10", "negative"),
        ],
        treatment="Complete excision.",
    )
    response = client.get(_url(case))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Inflammatory myofibroblastic tumor with CARS1::ALK" in page
    assert "8825/1" in page
    assert "Skin of scalp and neck" in page and "left posterior scalp" in page
    assert "38 years, female" in page
    assert "ALK+" in page and "SOX10\u2212" in page
    assert "(reported as CARS-ALK)" in page
    assert "D5F3" in page
    assert "Complete excision." in page
    # The AMA reference with its links.
    assert "McCollum KJ, Al-Rohil RN." in page
    assert "<i>J Cutan Pathol</i>. 2022;49(9):795-801. doi:10.1111/cup.14261" in page
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/35560368/"' in page
    assert 'href="https://doi.org/10.1111/cup.14261"' in page
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC9999999/"' in page


def test_a_draft_is_not_found_for_the_public_or_another_curator(client, curator, curator2):
    draft = CaseFactory(created_by=curator)
    assert client.get(_url(draft)).status_code == 404
    client.force_login(curator2)
    assert client.get(_url(draft)).status_code == 404


def test_submitted_and_rejected_cases_are_not_found_for_the_public(client, curator, reviewer):
    case = CaseFactory(created_by=curator)
    transition(case, "submitted", curator)
    assert client.get(_url(case)).status_code == 404
    transition(case, "rejected", reviewer, "Not a skin primary.")
    assert client.get(_url(case)).status_code == 404


def test_the_author_and_a_reviewer_see_an_unpublished_case_marked_as_such(
    client, curator, reviewer
):
    case = CaseFactory(created_by=curator)
    client.force_login(curator)
    response = client.get(_url(case))
    assert response.status_code == 200
    assert "This case is not published" in response.content.decode()
    transition(case, "submitted", curator)
    client.force_login(reviewer)
    assert "Submitted for review" in client.get(_url(case)).content.decode()


def test_an_unknown_case_is_not_found(client):
    assert client.get("/cases/999999/").status_code == 404


def test_a_partner_unknown_rearrangement_is_shown_as_such(client):
    case = make_published_case(fusions=["?::ALK"])
    assert "ALK rearrangement (partner unknown)" in client.get(_url(case)).content.decode()


def test_other_cases_with_the_same_fusion_or_diagnosis_are_listed_but_not_drafts(client):
    case = make_published_case(fusions=["CARS1::ALK"])
    same_fusion = make_published_case(
        fusions=["CARS1::ALK"], final_diagnosis=diagnosis("dermatofibroma")
    )
    same_diagnosis = make_published_case(fusions=["TPM3::ALK"])
    unrelated = make_published_case(fusions=[], final_diagnosis=diagnosis("melanoma"))
    draft = CaseFactory(fusions=["CARS1::ALK"])
    related = {c.pk: reasons for c, reasons in client.get(_url(case)).context["related"]}
    assert set(related) == {same_fusion.pk, same_diagnosis.pk}
    assert related[same_fusion.pk] == ["same fusion (CARS1::ALK)"]
    assert related[same_diagnosis.pk] == ["same diagnosis"]
    assert unrelated.pk not in related and draft.pk not in related


def test_user_text_is_escaped(client):
    case = make_published_case(treatment="<script>alert(1)</script>", label="<b>x</b>")
    page = client.get(_url(case)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


@pytest.mark.parametrize("n_ihc", [1, 40])
def test_the_page_has_a_fixed_query_budget_whatever_the_number_of_ihc_rows(
    client, django_assert_num_queries, n_ihc
):
    markers = ["ALK", "SMA", "desmin", "CD34", "SOX10", "S100", "CD68", "p63"]
    case = make_published_case(
        ihc=[
            (markers[i % len(markers)], "positive" if i % 2 else "negative") for i in range(n_ihc)
        ],
        fusions=["CARS1::ALK", "?::ROS1"],
    )
    for _ in range(3):
        make_published_case(fusions=["CARS1::ALK"])
    # case + authors + IHC + fusions + other molecular findings + treatments + events
    # + other citations + differentials + figures + related cases + their fusions
    # + provenance (published versions, first publication) + the releases holding it
    # + its open flags = 16, whatever the rows.
    with django_assert_num_queries(16):
        response = client.get(_url(case))
    assert response.status_code == 200
    assert len(response.context["ihc"]) == n_ihc
    assert len(response.context["related"]) == 3


def test_a_logged_in_readers_page_stays_within_budget(
    client, reader, django_assert_max_num_queries
):
    case = make_published_case()
    client.force_login(reader)
    with django_assert_max_num_queries(18):
        assert client.get(_url(case)).status_code == 200


def test_the_home_page_counts_published_cases_only(client):
    make_published_case()
    make_published_case()
    CaseFactory()
    assert client.get("/").context["counts"]["cases"] == 2
    assert Case.objects.count() == 3
