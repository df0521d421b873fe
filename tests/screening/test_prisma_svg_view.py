"""The PRISMA flow diagram (/screening/prisma.svg, screening.prisma_svg): the boxes carry
the counts, the identities hold in them at every step, overall and per saved search, and
user text is escaped."""

import re
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from citations.models import SavedSearch
from screening.actions import add_candidate, decide_candidate
from screening.models import ExclusionReason
from screening.prisma import prisma_counts

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


def _boxes(client, **params):
    response = client.get(reverse("screening:prisma_svg"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ElementTree.fromstring(response.content)  # noqa: S314 -- our own output
    boxes = {}
    for group in root.iter(f"{SVG}g"):
        first = next(group.iter(f"{SVG}text")).text
        boxes[group.get("data-testid")] = int(re.search(r"(\d+)$", first).group(1))
    return boxes


def _identities_hold(boxes):
    assert boxes["identified"] - boxes["duplicates"] == boxes["records"]
    assert boxes["records"] == boxes["awaiting"] + boxes["screened"]
    assert boxes["screened"] == boxes["excluded"] + boxes["included"] + boxes["maybe"]


def test_the_diagram_adds_up_at_every_step_overall_and_per_search(client, curator, reviewer):
    for name in ("cutaneous IMT", "IMT, other wording"):
        SavedSearch.objects.create(name=name, query="x")
    client.force_login(curator)
    _identities_hold(_boxes(client))
    papers = [
        add_candidate(kind="search", pmid=p, label="cutaneous IMT").candidate for p in (1, 2, 3, 4)
    ]
    add_candidate(kind="search", pmid=1, label="IMT, other wording")  # a duplicate
    add_candidate(kind="search", pmid=6, label="IMT, other wording")
    add_candidate(kind="suggestion", pmid=2)  # another duplicate
    not_case = ExclusionReason.objects.get(label="Not a case report")
    steps = [
        lambda: decide_candidate(papers[0], "exclude", by=curator, reason=not_case),
        lambda: decide_candidate(papers[1], "include", by=curator),
        lambda: decide_candidate(papers[2], "maybe", by=curator),
        lambda: decide_candidate(papers[2], "include", by=reviewer),
    ]
    for step in [lambda: None, *steps]:
        step()
        for params in ({}, {"search": "cutaneous IMT"}, {"search": "IMT, other wording"}):
            boxes = _boxes(client, **params)
            _identities_hold(boxes)
            counts = prisma_counts(params.get("search"))
            assert boxes["records"] == counts["records"]
            assert boxes["included"] == counts["included"]
    overall = _boxes(client)
    assert (overall["identified"], overall["duplicates"], overall["records"]) == (7, 2, 5)
    assert (overall["excluded"], overall["included"], overall["maybe"]) == (1, 2, 0)
    # Per search: the other wording found 2 papers, one of them already a candidate.
    other = _boxes(client, search="IMT, other wording")
    assert (other["identified"], other["duplicates"], other["records"]) == (2, 1, 1)
    assert other["awaiting"] == 1
    imt = _boxes(client, search="cutaneous IMT")
    assert (imt["identified"], imt["records"], imt["screened"], imt["awaiting"]) == (4, 4, 3, 1)


def test_user_text_is_escaped_and_the_file_downloads(client, curator):
    name = '<script>alert(1)</script> & "IMT"'
    SavedSearch.objects.create(name=name, query="x")
    add_candidate(kind="search", pmid=1, label=name)
    client.force_login(curator)
    response = client.get(reverse("screening:prisma_svg"), {"search": name, "download": "1"})
    body = response.content.decode()
    assert "<script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp;" in body
    assert response["Content-Disposition"] == 'attachment; filename="prisma.svg"'
    ElementTree.fromstring(response.content)  # noqa: S314 -- well-formed


def test_an_unknown_saved_search_is_not_found(client, curator):
    client.force_login(curator)
    assert client.get(reverse("screening:prisma_svg"), {"search": "nope"}).status_code == 404
    assert client.get(reverse("screening:prisma"), {"search": "nope"}).status_code == 404


def test_only_screeners_see_the_diagram(client, reader):
    client.force_login(reader)
    assert client.get(reverse("screening:prisma_svg")).status_code == 403


def test_the_diagram_costs_the_same_queries_whatever_the_numbers(
    client, curator, django_assert_num_queries
):
    SavedSearch.objects.create(name="IMT", query="x")
    client.force_login(curator)
    url = reverse("screening:prisma_svg")
    with CaptureQueriesContext(connection) as empty:
        client.get(url, {"search": "IMT"})
    not_case = ExclusionReason.objects.get(label="Not a case report")
    for pmid in range(1, 41):
        candidate = add_candidate(kind="search", pmid=pmid, label="IMT").candidate
        if pmid % 2:
            decide_candidate(candidate, "exclude", by=curator, reason=not_case)
    with django_assert_num_queries(len(empty)):
        client.get(url, {"search": "IMT"})
