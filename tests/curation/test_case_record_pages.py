"""The record where people read it (issue 14): the case page (grade, course, CARE
completeness, provenance and the public version history), the reviewer's view on the
diagnosis, the same patient reported twice, and the API's fields of the founding case."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from accounts.models import PublicName
from curation import workflow
from curation.actions.cases import replace_rows, transition, update_case
from curation.actions.review import approve_case, start_revision
from curation.models import Case
from tests.curation.curate_forms import log_in
from tests.factories import CaseFactory, CitationFactory

pytestmark = pytest.mark.django_db


def _published(curator, reviewer, **fields):
    case = CaseFactory(created_by=curator, **fields)
    transition(case, workflow.SUBMITTED, curator)
    approve_case(case, reviewer)
    case.refresh_from_db()
    return case


def test_the_case_page_shows_grade_course_completeness_and_who_curated(client, curator, reviewer):
    curator.first_name, curator.last_name = "Carla", "Curator"
    curator.save()
    PublicName.objects.create(user=reviewer, style=PublicName.Style.INITIALS)
    reviewer.first_name, reviewer.last_name = "Rosa", "Reviewer"
    reviewer.save()
    case = _published(
        curator,
        reviewer,
        follow_up_months=30,
        outcome="ned",
        events=[("local_recurrence", 14)],
        treatments=[("mohs", {"margins": "negative"})],
        source_depth="full_text",
        clinical_presentation="A painless nodule.",
    )
    page = client.get(case.get_absolute_url()).content.decode()
    assert "grade A" in page  # CARS1::ALK by RNA sequencing (the factory's default)
    assert "Local recurrence at 14 months" in page
    assert "Mohs micrographic surgery, margins negative" in page
    assert "No evidence of disease at 30 months" in page
    assert 'Curated from</dt><dd data-field="source-depth">Full text' in page
    # No differentials recorded: the diagnostic assessment item is missing.
    assert "5 of the 6 CARE case-report items" in page
    assert "diagnostic assessment (the diagnosis, the findings behind it" in page
    assert "Curated by Carla Curator" in page
    assert "reviewed and published by R. R." in page  # the reviewer chose initials


def test_the_public_version_history_says_what_each_revision_changed(
    client, curator, curator2, reviewer
):
    case = _published(curator, reviewer)
    revision = start_revision(case, curator2)
    update_case(revision, by=curator2, expected_version=revision.version, site_detail="vertex")
    replace_rows(
        revision,
        "event",
        by=curator2,
        expected_version=revision.version,
        rows=[{"kind": "distant_metastasis", "months": 8, "site": "lung"}],
    )
    revision.refresh_from_db()
    transition(revision, workflow.SUBMITTED, curator2)
    approve_case(revision, reviewer)
    page = client.get(case.get_absolute_url()).content.decode()
    assert "Versions" in page
    assert "Site detail" in page and "vertex" in page
    assert "Clinical course: Distant metastasis" in page
    assert "first publication" in page


def test_a_reviewer_records_whether_they_agree_with_the_diagnosis(client, curator, reviewer):
    case = CaseFactory(created_by=curator, diagnosis_as_reported="Spitz naevus")
    transition(case, workflow.SUBMITTED, curator)
    log_in(client, reviewer)
    url = reverse("curation:review_case", args=[case.pk])
    refused = client.post(
        url, {"decision": "approve", "version": case.version + 1, "diagnosis_review": "disagrees"}
    )
    assert "Say why you do not agree with the diagnosis." in refused.content.decode()
    case.refresh_from_db()
    assert case.status == workflow.SUBMITTED
    client.post(
        url,
        {
            "decision": "approve",
            "version": case.version,
            "diagnosis_review": "disagrees",
            "diagnosis_review_comment": "ALK-positive: an ALK-fused Spitz tumour, not a naevus.",
        },
    )
    case.refresh_from_db()
    assert (case.status, case.diagnosis_review) == (workflow.PUBLISHED, "disagrees")
    page = client.get(case.get_absolute_url()).content.decode()
    assert "an ALK-fused Spitz tumour, not a naevus" in page
    assert "“Spitz naevus”" in page


def test_a_second_paper_of_the_same_patient_becomes_a_revision_counted_once(
    client, curator, curator2, reviewer
):
    case = _published(curator, reviewer)
    second = CitationFactory(pmid=39000001)
    log_in(client, curator2)
    response = client.post(
        reverse("curation:report_same_patient", args=[second.pmid]), {"case": str(case.pk)}
    )
    revision = Case.objects.get(revision_of=case)
    assert response.url == reverse("curation:case_edit", args=[revision.pk])
    assert list(revision.other_citations.all()) == [second]
    # The public sees the published case unchanged until the revision is approved.
    assert not case.other_citations.exists()
    again = client.post(
        reverse("curation:report_same_patient", args=[second.pmid]),
        {"case": str(case.pk)},
        follow=True,
    )
    assert Case.objects.filter(revision_of=case).count() == 1  # the same revision, reused
    assert "is already a report of this patient in your revision" in again.content.decode()
    transition(revision, workflow.SUBMITTED, curator2)
    review = client.get(reverse("curation:review_case", args=[revision.pk]))
    assert review.status_code == 403  # curators do not review
    log_in(client, reviewer)
    review = client.get(reverse("curation:review_case", args=[revision.pk])).content.decode()
    assert "Other reports of this patient" in review and "PMID 39000001" in review
    approve_case(revision, reviewer)
    assert list(case.other_citations.all()) == [second]
    assert Case.objects.published().count() == 1  # one patient, one case


def test_an_unknown_case_number_is_explained(client, curator):
    citation = CitationFactory(pmid=39000002)
    log_in(client, curator)
    response = client.post(
        reverse("curation:report_same_patient", args=[citation.pmid]), {"case": "abc"}, follow=True
    )
    assert "is not the number of a published case" in response.content.decode()
    assert not Case.objects.exists()


def test_the_api_gives_the_founding_case_its_new_fields_with_grade_a(client):
    call_command("load_demo")
    case = Case.objects.get(citation__pmid=35560368)
    data = client.get(f"/api/cases/{case.pk}/").json()
    assert data["evidence_grade"] == "A"
    assert data["source_depth"] == "abstract"
    assert data["fusions"][0]["method"] == "targeted_rna_panel"
    assert data["fusions"][0]["assay"] == "targeted RNA sequencing"
    assert data["fusions"][0]["five_prime_hgnc_id"] == "HGNC:1493"
    assert data["differentials_as_reported"].endswith("poorly differentiated carcinoma")
    assert data["icdo_version"] == "ICD-O-3.2"
    assert data["record_version"] == case.version
    assert data["last_modified"].startswith(str(case.updated_at.year))
    assert data["molecular_findings"] == [] and data["clinical_events"] == []
