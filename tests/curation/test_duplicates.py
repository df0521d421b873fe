"""Duplicate warnings: the same case entered twice, or the same patient in two papers."""

import re

import pytest
from django.urls import reverse

from curation.actions.submission import find_duplicates, start_case
from curation.models import Case
from tests.curation.curate_forms import case_post, edit_url, founding_case, log_in
from tests.factories import CaseFactory, CitationFactory, make_published_case, topography

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_(client, curator):
    return log_in(client, curator)


@pytest.fixture
def earlier_report():
    """The same patient, published from an earlier paper: 38 years, female, scalp, CARS1::ALK."""
    return make_published_case(citation=CitationFactory(pmid=30000001, year=2019))


def _entered(client, curator, **extra):
    case = start_case(CitationFactory(pmid=35560368), by=curator)
    client.post(
        edit_url(case),
        case_post(
            case,
            ihc=[{"marker": "ALK", "result": "positive"}],
            fusions=[{"written": "CARS-ALK"}],
            **founding_case(**extra),
        ),
    )
    case.refresh_from_db()
    return case


def test_the_same_patient_in_another_paper_is_flagged_with_a_link(
    client_, curator, earlier_report
):
    case = _entered(client_, curator)
    page = client_.get(edit_url(case)).content.decode()
    assert "Possibly the same case" in page
    assert reverse("curation:case_detail", args=[earlier_report.pk]) in page
    # The other case is published: the patient's second paper joins it by a revision,
    # so that the patient stays one case.
    assert (
        f"Same patient: add PMID 35560368 as another report of {earlier_report.number} "
        "(a revision; then discard this draft)"
    ) in page
    assert reverse("curation:report_same_patient", args=[35560368]) in page


@pytest.mark.parametrize(
    "difference",
    [{"age": "39"}, {"sex": "male"}, {"topography": "C44.3"}],
)
def test_a_different_age_sex_or_site_is_not_flagged(client_, curator, earlier_report, difference):
    case = _entered(client_, curator, **difference)
    assert find_duplicates(case, user=curator).same_patient == []


def test_a_different_fusion_is_not_flagged(curator, earlier_report):
    case = CaseFactory(created_by=curator, fusions=["TPM3::ALK"])
    assert find_duplicates(case, user=curator).same_patient == []


def test_another_curators_private_draft_is_not_revealed(curator, curator2):
    CaseFactory(created_by=curator2)  # same patient, but a private draft
    mine = CaseFactory(created_by=curator)
    assert find_duplicates(mine, user=curator).same_patient == []


def test_linking_to_the_other_report_records_it_as_another_citation(
    client_, curator, earlier_report
):
    case = _entered(client_, curator)
    response = client_.post(
        reverse("curation:case_link_report", args=[case.pk]),
        {"other_case": earlier_report.pk, "version": case.version},
        follow=True,
    )
    assert list(case.other_citations.all()) == [earlier_report.citation]
    page = response.content.decode()
    assert "linked as another report of this patient" in page
    assert case.history.latest().history_user == curator


def test_linking_with_a_stale_version_links_nothing(client_, curator, earlier_report):
    case = _entered(client_, curator)
    client_.post(
        reverse("curation:case_link_report", args=[case.pk]),
        {"other_case": earlier_report.pk, "version": case.version - 1},
    )
    assert not case.other_citations.exists()


def test_linking_to_a_case_one_cannot_see_is_not_found(client_, curator, curator2):
    hidden = CaseFactory(created_by=curator2)
    case = _entered(client_, curator)
    response = client_.post(
        reverse("curation:case_link_report", args=[case.pk]),
        {"other_case": hidden.pk, "version": case.version},
    )
    assert response.status_code == 404


def test_the_same_label_in_the_same_paper_is_flagged(curator, curator2):
    citation = CitationFactory()
    other = make_published_case(citation=citation, label="Case 1", created_by=curator2)
    # Different letter case slips past the database rule but not the warning.
    mine = start_case(citation, by=curator, label="case 1")
    assert find_duplicates(mine, user=curator).same_label == [other]


def test_the_same_label_is_refused_when_saving(client_, curator):
    citation = CitationFactory()
    make_published_case(citation=citation, label="Case 1")
    mine = start_case(citation, by=curator)
    response = client_.post(edit_url(mine), case_post(mine, label="Case 1"))
    assert response.status_code == 422
    assert "This paper already has a case labelled “Case 1”" in response.content.decode()
    assert Case.objects.get(pk=mine.pk).label == ""


def names_the_case(message: str, case) -> bool:
    """Whether `message` names `case` by its number, as "(case 12)" or "#12" would (not
    by its label: "Case 1" is the label, whatever the draft's number)."""
    return bool(re.search(rf"(#|\(case |/cases/){case.pk}\b", message, re.IGNORECASE))


def test_a_label_clash_with_another_curators_draft_does_not_reveal_the_draft(
    client_, curator, curator2
):
    """Before: "(case 12)" named another curator's private draft."""
    citation = CitationFactory()
    private = start_case(citation, by=curator2, label="Case 1")
    mine = start_case(citation, by=curator)
    response = client_.post(edit_url(mine), case_post(mine, label="Case 1"))
    assert response.status_code == 422
    (message,) = response.context["form"].errors["label"]
    assert "another curator's draft of this paper already uses that label" in message
    assert not names_the_case(message, private)


def test_starting_a_case_with_a_label_of_another_curators_draft_is_refused_privately(
    client_, curator2
):
    citation = CitationFactory()
    private = start_case(citation, by=curator2, label="Case 1")
    response = client_.post(
        reverse("curation:case_new", args=[citation.pmid]), {"label": "Case 1"}, follow=True
    )
    (message,) = [str(m) for m in response.context["messages"]]
    assert "another curator's draft of this paper already uses that label" in message
    assert not names_the_case(message, private)
    assert Case.objects.count() == 1


def test_a_label_clash_with_a_published_case_names_it(client_, curator):
    citation = CitationFactory()
    public = make_published_case(citation=citation, label="Case 1")
    mine = start_case(citation, by=curator)
    response = client_.post(edit_url(mine), case_post(mine, label="Case 1"))
    (message,) = response.context["form"].errors["label"]
    assert f"RareDerm #{public.pk}" in message


def test_find_duplicates_has_a_fixed_query_budget(
    curator, earlier_report, django_assert_max_num_queries
):
    for _ in range(5):
        make_published_case(citation=CitationFactory())
    case = CaseFactory(created_by=curator, label="Case 1", topography=topography("C44.4"))
    with django_assert_max_num_queries(4):
        found = find_duplicates(case, user=curator)
    assert len(found.same_patient) == 6
