"""One name for a case everywhere: RareDerm #7 · “Case 2” in the paper."""

import pytest
from django.urls import reverse

from curation import workflow
from curation.actions.cases import transition
from tests.curation.curate_forms import log_in
from tests.factories import CaseFactory, make_published_case

pytestmark = pytest.mark.django_db


def _named(page: str, case) -> bool:
    return f"RareDerm #{case.pk}" in page and "“Case 2” in the paper" in page


def test_public_pages_name_a_case_by_its_number_and_its_label_in_the_paper(client):
    case = make_published_case(label="Case 2")
    assert _named(client.get(case.get_absolute_url()).content.decode(), case)
    assert _named(client.get(reverse("curation:search")).content.decode(), case)


def test_curator_and_reviewer_pages_use_the_same_name(client, curator, reviewer):
    case = CaseFactory(created_by=curator, label="Case 2")
    log_in(client, curator)
    assert _named(client.get(reverse("curation:my_drafts")).content.decode(), case)
    report = reverse("curation:report", args=[case.citation.pmid])
    assert _named(client.get(report).content.decode(), case)
    transition(case, workflow.SUBMITTED, curator)
    client.force_login(reviewer)
    queue = client.get(reverse("curation:review_queue")).content.decode()
    assert f"RareDerm #{case.pk}" in queue and "“Case 2” in the paper" in queue
    review = client.get(reverse("curation:review_case", args=[case.pk])).content.decode()
    assert f"Review RareDerm #{case.pk}" in review


def test_a_case_without_a_label_is_just_its_number():
    case = CaseFactory.build(pk=7, label="")
    assert str(case) == case.reference == "RareDerm #7"
    case.label = "Patient 3"
    assert str(case) == "RareDerm #7 · “Patient 3” in the paper"
