"""The screening inbox (/screening/) and its decisions (screening.views.inbox, decide)."""

import pytest
from django.urls import reverse

from screening.actions import add_candidate, decide_candidate
from screening.models import Candidate, ExclusionReason
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db
URL = reverse("screening:inbox")


def _candidate(pmid, **citation):
    record = CitationFactory(pmid=pmid, **citation)
    return add_candidate(kind="search", citation=record, label="cutaneous IMT").candidate


def _listed(response) -> list[int]:
    return [c.pk for c in response.context["page"].object_list]


def test_anonymous_visitors_are_sent_to_log_in_and_readers_are_refused(client, reader):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.force_login(reader)
    assert client.get(URL).status_code == 403


def test_curators_see_papers_to_screen_with_their_sources_and_the_terms_marked(client, curator):
    candidate = _candidate(
        35560368,
        title="Cutaneous inflammatory myofibroblastic tumor with a <i>CARS1::ALK</i> fusion.",
        abstract=[
            {"label": "CASE", "category": "", "text": "An ALK-positive spindle cell tumour."}
        ],
    )
    add_candidate(kind="suggestion", pmid=35560368, by=curator, note="seen at a meeting")
    client.force_login(curator)
    response = client.get(URL)
    assert _listed(response) == [candidate.pk]
    page = response.content.decode()
    assert "Cutaneous <mark>inflammatory myofibroblastic tumor</mark> with a" in page
    assert "<i>CARS1::<mark>ALK</mark></i>" in page
    assert "An <mark>ALK</mark>-positive spindle cell tumour." in page
    assert "Saved search: cutaneous IMT" in page
    assert "Suggested (carla_curator)" in page
    assert "seen at a meeting" in page


def test_markup_in_a_title_is_shown_escaped(client, curator):
    candidate = _candidate(35560369)
    Candidate.objects.filter(pk=candidate.pk)  # the row stays; its citation's title is raw
    candidate.citation.__class__.objects.filter(pk=candidate.citation_id).update(
        title='<script>alert("x")</script>ALK <img src=x onerror=alert(1)>'
    )
    client.force_login(curator)
    page = client.get(URL).content.decode()
    assert "<script>alert" not in page
    assert "onerror" not in page
    assert "<mark>ALK</mark>" in page


def test_tabs_show_each_status_with_its_count(client, curator):
    first, second, third = (_candidate(pmid) for pmid in (1001, 1002, 1003))
    decide_candidate(first, "maybe", by=curator)
    decide_candidate(second, "include", by=curator)
    client.force_login(curator)
    assert _listed(client.get(URL)) == [third.pk]
    assert _listed(client.get(URL, {"status": "maybe"})) == [first.pk]
    response = client.get(URL, {"status": "include"})
    assert _listed(response) == [second.pk]
    assert [(code, n) for code, _label, n in response.context["tabs"]] == [
        ("new", 1),
        ("maybe", 1),
        ("include", 1),
        ("exclude", 0),
    ]


def test_the_inbox_has_a_fixed_query_budget(client, curator, django_assert_max_num_queries):
    for pmid in range(2000, 2020):
        candidate = _candidate(pmid)
        add_candidate(kind="reference", pmid=pmid, label="references of PMID 1")
        decide_candidate(candidate, "maybe", by=curator)
    client.force_login(curator)
    with django_assert_max_num_queries(14):
        response = client.get(URL, {"status": "maybe"})
    assert len(_listed(response)) == 20


def test_excluding_with_a_reason_from_the_inbox(client, curator):
    candidate = _candidate(35560368)
    reason = ExclusionReason.objects.get(label="Not in English")
    client.force_login(curator)
    response = client.post(
        reverse("screening:decide", args=[candidate.pk]),
        {"decision": "exclude", "reason": reason.pk, "status": "new"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{URL}?status=new#candidate-{candidate.pk}"
    assert "PMID 35560368: excluded." in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == "exclude"
    assert candidate.decisions.get().reason == reason


def test_excluding_without_a_reason_says_so_and_changes_nothing(client, curator):
    candidate = _candidate(35560368)
    client.force_login(curator)
    response = client.post(
        reverse("screening:decide", args=[candidate.pk]), {"decision": "exclude"}, follow=True
    )
    assert "nothing changed. Say why the paper is excluded." in response.content.decode()
    candidate.refresh_from_db()
    assert candidate.status == "new"
    assert not candidate.decisions.exists()


def test_including_for_another_curator_from_the_inbox(client, curator, reviewer):
    candidate = _candidate(35560368, title="A cutaneous IMT.")
    client.force_login(reviewer)
    response = client.post(
        reverse("screening:decide", args=[candidate.pk]),
        {"decision": "include", "assign_to": curator.pk},
        follow=True,
    )
    assert "PMID 35560368: included, assigned to carla_curator." in response.content.decode()
    candidate.refresh_from_db()
    assert (candidate.status, candidate.assigned_to) == ("include", curator)


def test_the_phrases_of_enabled_saved_searches_are_marked_too(client, curator):
    from citations.models import SavedSearch

    SavedSearch.objects.create(name="DFSP", query='"dermatofibrosarcoma protuberans"[tiab]')
    SavedSearch.objects.create(name="off", query='"spindle cell"[tiab]', enabled=False)
    _candidate(35560368, title="Dermatofibrosarcoma protuberans of the scalp: spindle cell.")
    client.force_login(curator)
    page = client.get(URL).content.decode()
    assert "<mark>Dermatofibrosarcoma protuberans</mark> of the scalp: spindle cell." in page
