"""The Django admin is no way around review (issue 11, items 2 and 3).

Reviewers are staff (create_user makes them so) and hold the curators'
change permissions. Before: a reviewer could edit a published case in the
admin (live at once, no event), unpublish it through django-simple-history's
"revert", change another curator's draft, and read every private draft.
Now case content is read only in the admin for everybody, reverting is
refused, and the admin shows a user only the cases the site shows them.
"""

import pytest
from django.urls import reverse

from curation import workflow
from curation.actions.cases import transition
from curation.models import Case, FusionFinding, IHCResult
from tests.factories import CaseFactory, make_published_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_reviewer(reviewer):
    reviewer.is_staff = True
    reviewer.save(update_fields=["is_staff"])
    return reviewer


@pytest.fixture
def published(curator):
    return make_published_case(created_by=curator, notes="As published.", fusions=["CARS1::ALK"])


@pytest.fixture
def private_draft(curator):
    return CaseFactory(created_by=curator, notes="PRIVATE-DRAFT-TEXT", fusions=["EML4::ALK"])


def change_url(case):
    return reverse("admin:curation_case_change", args=[case.pk])


def test_a_published_case_cannot_be_edited_in_the_admin(client, staff_reviewer, published):
    client.force_login(staff_reviewer)
    page = client.get(change_url(published))
    assert page.status_code == 200
    assert 'name="notes"' not in page.content.decode()  # shown, not editable
    response = client.post(change_url(published), {"notes": "Edited in the admin."})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.notes == "As published." and published.status == workflow.PUBLISHED


def test_the_case_page_in_the_admin_links_to_propose_a_revision(client, admin, published):
    client.force_login(admin)
    page = client.get(change_url(published)).content.decode()
    assert "Propose a revision" in page
    assert reverse("curation:case_detail", args=[published.pk]) in page


def test_nothing_can_be_added_or_deleted_in_the_case_admins(client, admin, published):
    client.force_login(admin)
    for model in ("case", "ihcresult", "fusionfinding"):
        assert client.get(reverse(f"admin:curation_{model}_add")).status_code == 403
    assert (
        client.post(reverse("admin:curation_case_delete", args=[published.pk])).status_code == 403
    )
    row = IHCResult.objects.filter(case=published).first() or FusionFinding.objects.get(
        case=published
    )
    model = row._meta.model_name
    assert client.post(reverse(f"admin:curation_{model}_delete", args=[row.pk])).status_code == 403
    assert Case.objects.filter(pk=published.pk).exists()


def test_a_history_revert_is_refused(client, admin, published):
    client.force_login(admin)
    published.notes = "Second version."
    published.save()
    first = published.history.order_by("history_date").first()
    url = reverse("admin:curation_case_simple_history", args=[published.pk, first.history_id])
    assert client.get(url).status_code == 200  # history is readable
    response = client.post(url, {"notes": "As published.", "status": workflow.DRAFT})
    assert response.status_code == 403
    published.refresh_from_db()
    assert published.notes == "Second version." and published.status == workflow.PUBLISHED


def test_a_reviewer_does_not_see_another_curators_draft_in_the_admin(
    client, staff_reviewer, private_draft, published
):
    client.force_login(staff_reviewer)
    listing = client.get(reverse("admin:curation_case_changelist"))
    assert [c.pk for c in listing.context["cl"].result_list] == [published.pk]
    opened = client.get(change_url(private_draft), follow=True)
    assert "PRIVATE-DRAFT-TEXT" not in opened.content.decode()
    history = client.get(reverse("admin:curation_case_history", args=[private_draft.pk]))
    assert history.status_code == 404
    version = private_draft.history.first().history_id
    form = reverse("admin:curation_case_simple_history", args=[private_draft.pk, version])
    assert client.get(form).status_code == 404
    fusions = client.get(reverse("admin:curation_fusionfinding_changelist"))
    assert {f.case_id for f in fusions.context["cl"].result_list} == {published.pk}


def test_an_admin_does_not_see_a_curators_private_draft_either(client, admin, private_draft):
    client.force_login(admin)
    listing = client.get(reverse("admin:curation_case_changelist"))
    assert private_draft.pk not in {c.pk for c in listing.context["cl"].result_list}
    rows = client.get(reverse("admin:curation_fusionfinding_changelist"))
    assert private_draft.pk not in {f.case_id for f in rows.context["cl"].result_list}


def test_once_submitted_the_reviewer_sees_it_in_the_admin_as_on_the_review_pages(
    client, staff_reviewer, private_draft, curator
):
    transition(private_draft, workflow.SUBMITTED, curator)
    client.force_login(staff_reviewer)
    assert client.get(change_url(private_draft)).status_code == 200
    history = client.get(reverse("admin:curation_case_history", args=[private_draft.pk]))
    assert history.status_code == 200
