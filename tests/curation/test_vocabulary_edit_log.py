"""Every vocabulary edit in the admin is logged (who, before, after) and shown in the activity log.

Reviewers edit vocabularies in the Django admin; an edit changes what every
case coded with the term says, so it is kept like a case event (issue 11,
item 2).
"""

import json

import pytest
from django import forms
from django.urls import reverse

from curation.models import Diagnosis, Marker, VocabularyEdit

pytestmark = pytest.mark.django_db
ACTIVITY = reverse("curation:activity")


@pytest.fixture
def staff_reviewer(reviewer):
    reviewer.is_staff = True
    reviewer.save(update_fields=["is_staff"])
    return reviewer


def admin_form(client, model: str, obj) -> dict:
    """The admin change form of obj as the browser would post it back."""
    page = client.get(reverse(f"admin:curation_{model}_change", args=[obj.pk]))
    form = page.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form[name].value()
        if isinstance(field, forms.JSONField):
            value = field.prepare_value(value)
        if value is not None:
            data[name] = value
    for formset in page.context["inline_admin_formsets"]:
        management = formset.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management[name].value()
        for index, inline_form in enumerate(formset.formset.forms):
            for name in inline_form.fields:
                value = inline_form[name].value()
                if value is not None:
                    data[f"{formset.formset.prefix}-{index}-{name}"] = value
    return data


def test_a_changed_diagnosis_is_logged_with_who_before_and_after(client, staff_reviewer):
    diagnosis = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    client.force_login(staff_reviewer)
    data = admin_form(client, "diagnosis", diagnosis)
    data["synonyms"] = json.dumps(["IMT", "inflammatory pseudotumour (edited)"])
    response = client.post(reverse("admin:curation_diagnosis_change", args=[diagnosis.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    (edit,) = VocabularyEdit.objects.all()
    assert edit.actor == staff_reviewer and edit.action == "changed"
    assert edit.vocabulary == "diagnosis" and edit.term == str(diagnosis)
    (change,) = [c for c in edit.changes if c[0] == "synonyms"]
    assert change[2] == ["IMT", "inflammatory pseudotumour (edited)"]
    assert change[1] != change[2]


def test_an_added_and_a_deleted_term_are_logged(client, admin):
    client.force_login(admin)
    add = reverse("admin:curation_topography_add")
    response = client.post(add, {"code": "C80.9", "name": "Unknown primary site (test)"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    added = VocabularyEdit.objects.get(action="added")
    assert added.after["name"] == "Unknown primary site (test)" and added.before == {}
    term_id = added.term_id
    delete = reverse("admin:curation_topography_delete", args=[term_id])
    assert client.post(delete, {"post": "yes"}).status_code == 302
    deleted = VocabularyEdit.objects.get(action="deleted")
    assert deleted.before["code"] == "C80.9" and deleted.after == {} and deleted.term_id == term_id


def test_a_new_clone_on_a_marker_is_in_the_markers_before_and_after(client, admin):
    marker = Marker.objects.get(name="ALK")
    client.force_login(admin)
    data = admin_form(client, "marker", marker)
    prefix = next(k for k in data if k.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    index = int(data[f"{prefix}-TOTAL_FORMS"])
    data[f"{prefix}-TOTAL_FORMS"] = index + 1
    data[f"{prefix}-{index}-name"] = "TESTCLONE-1"
    data[f"{prefix}-{index}-source"] = "A test source"
    response = client.post(reverse("admin:curation_marker_change", args=[marker.pk]), data)
    assert response.status_code == 302
    (edit,) = VocabularyEdit.objects.all()
    (clones,) = [c for c in edit.changes if c[0] == "clones"]
    assert not any("TESTCLONE-1" in str(x) for x in clones[1])
    assert any("TESTCLONE-1" in str(x) for x in clones[2])


def test_the_activity_log_shows_vocabulary_edits_to_admins(client, admin, reviewer):
    VocabularyEdit.objects.create(
        actor=reviewer,
        action="changed",
        vocabulary="gene",
        term_id=1,
        term="ALK",
        before={"name": "old <b>name</b>"},
        after={"name": "new name"},
    )
    client.force_login(admin)
    page = client.get(ACTIVITY).content.decode()
    assert "Vocabulary edits" in page and "rosa_reviewer" in page
    assert "old &lt;b&gt;name&lt;/b&gt;" in page and "new name" in page
    # The same filters: another actor shows none of them.
    other = client.get(ACTIVITY, {"actor": "somebody_else"}).content.decode()
    assert "No vocabulary edits match these filters" in other
