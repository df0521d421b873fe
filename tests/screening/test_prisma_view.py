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
    with django_assert_max_num_queries(12):  # 2 of them: the cases of included papers
        page = client.get(reverse("screening:prisma")).content.decode()
    assert "saved search “cutaneous IMT”" in page
    assert '<td data-testid="records">1</td>' in page


def test_the_counts_end_with_the_cases_curated_and_published_from_included_papers(
    client, curator, reviewer
):
    from curation.actions.review import start_revision
    from tests.factories import CaseFactory, CitationFactory, make_published_case

    included = CitationFactory(pmid=35560368)
    screened_out = CitationFactory(pmid=27797938)
    for citation, decision in ((included, "include"), (screened_out, "exclude")):
        candidate = add_candidate(kind="search", citation=citation, label="IMT").candidate
        reason = ExclusionReason.objects.get(label="Not a case report")
        decide_candidate(
            candidate, decision, by=curator, reason=reason if decision == "exclude" else None
        )
    published = make_published_case(citation=included, created_by=curator)
    start_revision(published, curator)  # a revision is not another case
    CaseFactory(citation=included, created_by=curator)  # a draft is curated, not published
    make_published_case(citation=screened_out)  # not from an included paper
    counts = prisma_counts()
    _identities_hold(counts)
    assert (counts["cases_curated"], counts["cases_published"]) == (2, 1)
    client.force_login(reviewer)
    page = client.get(reverse("screening:prisma")).content.decode()
    assert '<td data-testid="cases-curated">2</td>' in page
    assert '<td data-testid="cases-published">1</td>' in page
    svg = client.get(reverse("screening:prisma_svg")).content.decode()
    assert "Cases curated: 2" in svg and "published: 1" in svg
