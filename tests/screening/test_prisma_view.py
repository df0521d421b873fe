"""PRISMA counts (/screening/prisma/, screening.prisma): each identity holds at every step."""

import pytest
from django.urls import reverse

from screening.actions import add_candidate, decide_candidate
from screening.models import ExclusionReason
from screening.prisma import prisma_counts

pytestmark = pytest.mark.django_db


def _identities_hold(counts):
    assert counts["identified_total"] - counts["duplicates"] == counts["records"]
    assert counts["records"] == counts["awaiting"] + counts["screened"]
    assert counts["screened"] == counts["excluded"] + counts["included"] + counts["maybe"]
    assert counts["excluded"] == sum(n for _, n in counts["excluded_by_reason"])


def test_the_counts_add_up_at_every_step(curator, reviewer):
    _identities_hold(prisma_counts())
    papers = [
        add_candidate(kind="search", pmid=p, label="cutaneous IMT").candidate for p in (1, 2, 3, 4)
    ]
    add_candidate(kind="search", pmid=1, label="IMT, other wording")  # a duplicate
    add_candidate(kind="suggestion", pmid=2)  # another
    add_candidate(kind="reference", pmid=5, label="references of PMID 9")
    counts = prisma_counts()
    _identities_hold(counts)
    assert (counts["identified_total"], counts["duplicates"], counts["records"]) == (7, 2, 5)
    assert counts["searches"] == [("IMT, other wording", 1), ("cutaneous IMT", 4)]
    not_case = ExclusionReason.objects.get(label="Not a case report")
    english = ExclusionReason.objects.get(label="Not in English")
    decide_candidate(papers[0], "exclude", by=curator, reason=english)
    decide_candidate(papers[0], "exclude", by=reviewer, reason=not_case)  # the later one counts
    decide_candidate(papers[1], "exclude", by=curator, reason=not_case)
    decide_candidate(papers[2], "include", by=curator)
    decide_candidate(papers[3], "maybe", by=curator)
    counts = prisma_counts()
    _identities_hold(counts)
    assert counts["excluded_by_reason"] == [("Not a case report", 2)]
    assert (counts["screened"], counts["included"], counts["maybe"], counts["awaiting"]) == (
        4,
        1,
        1,
        1,
    )


def test_the_page_shows_the_table_to_screeners(client, curator, django_assert_max_num_queries):
    add_candidate(kind="search", pmid=1, label="cutaneous IMT")
    client.force_login(curator)
    with django_assert_max_num_queries(10):
        page = client.get(reverse("screening:prisma")).content.decode()
    assert "saved search “cutaneous IMT”" in page
    assert '<td data-testid="records">1</td>' in page
