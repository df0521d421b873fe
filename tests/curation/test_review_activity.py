"""The admin activity log (curation.views.review.activity) and its CSV export."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from curation import workflow
from curation.actions.cases import transition
from curation.actions.review import approve_case, comment_on_case, reject_case
from curation.models import CaseEvent
from tests.factories import CaseFactory

pytestmark = pytest.mark.django_db
URL = reverse("curation:activity")
CSV_URL = reverse("curation:activity_csv")


@pytest.fixture
def history(curator, curator2, reviewer):
    a = CaseFactory(created_by=curator)
    transition(a, workflow.SUBMITTED, curator)
    approve_case(a, reviewer)
    b = CaseFactory(created_by=curator2)
    transition(b, workflow.SUBMITTED, curator2)
    comment_on_case(b, reviewer, '=HYPERLINK("http://evil")')
    reject_case(b, reviewer, "Not cutaneous.")
    # One old event, to filter by date.
    CaseEvent.objects.filter(case=a, to_status=workflow.SUBMITTED).update(
        created_at=timezone.now() - timedelta(days=40)
    )
    return a, b


def _events(response):
    return [(e.actor.username, e.from_status, e.to_status) for e in response.context["page"]]


def test_admins_see_every_event_newest_first(client, admin, history, reviewer, curator2):
    client.force_login(admin)
    response = client.get(URL)
    assert response.status_code == 200
    listed = _events(response)
    assert len(listed) == 5
    assert listed[0] == (reviewer.username, "submitted", "rejected")
    assert listed[-1][2] == "submitted"  # the backdated one is last


def test_the_log_filters_by_actor_status_and_date(client, admin, history, reviewer, curator):
    client.force_login(admin)
    assert {a for a, _, _ in _events(client.get(URL, {"actor": reviewer.username}))} == {
        reviewer.username
    }
    assert _events(client.get(URL, {"status": "published"})) == [
        (reviewer.username, "submitted", "published")
    ]
    assert _events(client.get(URL, {"status": "comment"})) == [
        (reviewer.username, "submitted", "submitted")
    ]
    recent = _events(client.get(URL, {"date_from": str(timezone.localdate() - timedelta(days=7))}))
    assert len(recent) == 4
    old = _events(client.get(URL, {"date_to": str(timezone.localdate() - timedelta(days=30))}))
    assert old == [(curator.username, "draft", "submitted")]


@pytest.mark.parametrize(
    "params",
    [
        {"date_from": "2026-13-45"},
        {"status": "deleted"},
        {"date_from": "2026-02-01", "date_to": "2026-01-01"},
    ],
)
def test_a_bad_filter_is_explained_and_lists_nothing(client, admin, history, params):
    client.force_login(admin)
    response = client.get(URL, params)
    assert response.status_code == 200
    assert _events(response) == []
    assert "These filters are not valid" in response.content.decode()


def test_the_csv_export_streams_the_filtered_log_safe_for_spreadsheets(
    client, admin, history, reviewer
):
    client.force_login(admin)
    response = client.get(CSV_URL, {"actor": reviewer.username})
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["when", "case", "who", "role", "from", "to", "kind", "comment"]
    assert [r[2] for r in rows[1:]] == [reviewer.username] * 3
    assert [r[6] for r in rows[1:]] == ["transition", "comment", "transition"]
    # A comment that looks like a formula is defused.
    assert rows[2][7] == '\'=HYPERLINK("http://evil")'
    assert rows[1][7] == "Not cutaneous."


def test_only_admins_may_see_or_export_the_log(client, reviewer):
    assert client.get(URL).status_code == 302
    client.force_login(reviewer)
    assert client.get(URL).status_code == 403
    assert client.get(CSV_URL).status_code == 403


def test_the_log_has_a_fixed_query_budget(
    client, admin, curator, reviewer, django_assert_max_num_queries
):
    for _ in range(15):
        case = CaseFactory(created_by=curator)
        transition(case, workflow.SUBMITTED, curator)
        comment_on_case(case, reviewer, "note")
    client.force_login(admin)
    with django_assert_max_num_queries(8):
        response = client.get(URL)
    assert len(_events(response)) == 30
