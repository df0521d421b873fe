"""Every admin URL by every role: the admin is in the permission matrix (issue 11).

Every URL of every registered model admin (list, add, change, delete,
history, a history version) is opened by each role: anonymous, the curator
who wrote the cases, another curator, a reviewer (staff, as create_user makes
them) and an admin. A new admin cannot ship without being covered: the URL
names are read from the admin site itself.

What must hold, role by role:
- anonymous and curators (not staff) are sent to the admin's login page;
- reviewers and admins never meet a server error; case content (cases, IHC
  and fusion rows) cannot be added, changed or deleted by anybody (403); a
  curator's private draft is neither opened (Django's "does not exist"
  redirect) nor shown in history (404), while a published case is (200).
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin as django_admin
from django.urls import URLPattern, reverse
from django.utils import timezone

from citations.models import Citation, FetchJob, SavedSearch, SavedSearchRun
from curation import workflow
from curation.actions.cases import transition
from curation.models import TermProposal
from outbox.models import Email
from tests.factories import CaseFactory, make_published_case

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "author", "other_curator", "reviewer", "admin")
PRIVATE = "PRIVATE-DRAFT-TEXT"
CASE_CONTENT = {"case", "ihcresult", "fusionfinding"}


def admin_url_names() -> set[str]:
    names = set()
    for model_admin in django_admin.site._registry.values():
        for pattern in model_admin.urls:
            if isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"admin:{pattern.name}")
    return names


@pytest.fixture
def world(curator):
    published = make_published_case(created_by=curator, fusions=["CARS1::ALK"])
    draft = CaseFactory(created_by=curator, fusions=["EML4::ALK"], notes=PRIVATE)
    submitted = CaseFactory(created_by=curator)
    transition(submitted, workflow.SUBMITTED, curator)
    for case in (draft, submitted):
        TermProposal.objects.create(
            case=case, proposed_by=curator, kind="diagnosis", field="final_diagnosis", text="x"
        )
    FetchJob.objects.create(requested_by=curator, state=FetchJob.State.DONE)
    search = SavedSearch.objects.create(name="cutaneous IMT", query="x")
    SavedSearchRun.objects.create(search=search, maxdate="2026-12-01", started_at=timezone.now())
    Email.objects.create(to=["someone@example.org"], subject="s", body="b")
    access = {"user_agent": "test", "ip_address": "127.0.0.1", "username": "carla_curator"}
    AccessAttempt.objects.create(**access, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**access)
    AccessLog.objects.create(**access)
    assert Citation.objects.exists()
    return {"published": published, "draft": draft, "submitted": submitted}


def instances(model, world) -> dict[str, object]:
    """The objects whose pages are opened: published and draft for case content."""
    name = model._meta.model_name
    if name == "case":
        return {"published": world["published"], "draft": world["draft"]}
    if name in ("ihcresult", "fusionfinding", "caseevent", "termproposal"):
        return {
            state: model.objects.filter(case=world[state]).first()
            for state in ("published", "draft", "submitted")
            if model.objects.filter(case=world[state]).exists()
        }
    first = model.objects.order_by("pk").first()
    return {"any": first} if first is not None else {}


def requests_to_make(world):
    """(url name, url, model name, object state) for every URL of every model admin."""
    made = [("admin:index", reverse("admin:index"), "", "")]
    for model, model_admin in django_admin.site._registry.items():
        objects = instances(model, world)
        for pattern in model_admin.urls:
            if not (isinstance(pattern, URLPattern) and pattern.name):
                continue
            name = f"admin:{pattern.name}"
            if not pattern.pattern.regex.groups:
                made.append((name, reverse(name), model._meta.model_name, ""))
                continue
            for state, obj in objects.items():
                args = [obj.pk]
                if pattern.name.endswith("_simple_history"):
                    args.append(obj.history.order_by("history_date").first().history_id)
                made.append((name, reverse(name, args=args), model._meta.model_name, state))
    return made


@pytest.fixture
def users(curator, curator2, reviewer, admin):
    reviewer.is_staff = True
    reviewer.save(update_fields=["is_staff"])
    return {
        "anonymous": None,
        "author": curator,
        "other_curator": curator2,
        "reviewer": reviewer,
        "admin": admin,
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_admin_url_answers_each_role_as_the_rules_say(client, world, users, role):
    user = users[role]
    if user is not None:
        client.force_login(user)
    login = reverse("admin:login")
    checked = 0
    for name, url, model, state in requests_to_make(world):
        response = client.get(url)
        where = f"GET {url} ({name}) as {role}"
        if role in ("anonymous", "author", "other_curator"):
            assert response.status_code == 302 and response.url.startswith(login), where
        else:
            assert response.status_code < 500, where
            kind = name.rsplit("_", 1)[-1] if "simple_history" not in name else "simple_history"
            if model in CASE_CONTENT and kind in ("add", "delete"):
                assert response.status_code == 403, where
            if state == "draft":  # a curator's private draft, or a row of one
                assert response.status_code in (302, 403, 404), where
                assert PRIVATE not in response.content.decode(), where
            if model in CASE_CONTENT and state == "draft":
                expected = 302 if kind == "change" else (403 if kind == "delete" else 404)
                assert response.status_code == expected, where
            if model in CASE_CONTENT and state == "published" and kind != "delete":
                assert response.status_code == 200, where
            if model in CASE_CONTENT and kind == "change" and state:
                posted = client.post(url, {"notes": "changed"})
                assert posted.status_code in (403, 302) if state == "draft" else 403, where
        checked += 1
    assert checked > 50


def test_every_admin_url_name_is_opened_by_the_matrix(world):
    opened = {name for name, *_ in requests_to_make(world)}
    missing = admin_url_names() - opened
    assert not missing, f"the admin matrix does not open: {sorted(missing)}"
