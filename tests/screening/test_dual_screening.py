"""Blind dual screening (issue 16): a reviewer sets it per saved search; two different
curators decide each of its papers without seeing each other's decision; agreement
decides, disagreement goes to a reviewer's conflicts page; PRISMA adds up throughout."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from citations.actions.storage import Stored
from citations.models import SavedSearch
from screening.actions import add_search_results, decide_candidate, set_dual_screening
from screening.models import Candidate, ExclusionReason
from screening.prisma import prisma_counts
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db

NAME = "cutaneous IMT"


def assert_identities(counts: dict) -> None:
    assert counts["identified_total"] - counts["duplicates"] == counts["records"], counts
    assert counts["records"] == counts["awaiting"] + counts["screened"], counts
    assert counts["screened"] == counts["excluded"] + counts["included"] + counts["maybe"]
    assert counts["conflicts"] <= counts["awaiting"]


@pytest.fixture
def search(reviewer):
    search = SavedSearch.objects.create(name=NAME, query="imt[tiab]")
    set_dual_screening(search, True, by=reviewer)
    return search


def found(search, *pmids) -> list[Candidate]:
    """What a run of the saved search stores and hands to screening (citations.hooks)."""
    stored = {}
    for pmid in pmids:
        citation = CitationFactory(pmid=pmid, title=f"Paper {pmid}")
        stored[pmid] = Stored(pmid, citation_id=citation.pk, created=True)
    add_search_results(search, stored)
    return [Candidate.objects.get(pmid=pmid) for pmid in pmids]


def reason(label="Not a case report"):
    return ExclusionReason.objects.get(label=label)


def test_a_dual_searchs_papers_wait_for_a_second_curator_and_agreement_decides(
    search, curator, curator2
):
    (paper,) = found(search, 1001)
    assert paper.dual
    decide_candidate(paper, "include", by=curator, assign_to=curator)
    paper.refresh_from_db()
    assert (paper.status, paper.assigned_to, paper.decided_at) == ("new", None, None)
    assert_identities(prisma_counts())
    assert prisma_counts()["awaiting"] == 1

    with pytest.raises(ValidationError, match="You screened this paper already"):
        decide_candidate(paper, "include", by=curator, assign_to=curator)
    decide_candidate(paper, "include", by=curator2, assign_to=curator2)
    paper.refresh_from_db()
    assert (paper.status, paper.assigned_to) == ("include", curator2)
    assert paper.decided_at is not None
    counts = prisma_counts(NAME)
    assert_identities(counts)
    assert (counts["screened"], counts["included"], counts["awaiting"]) == (1, 1, 0)


@pytest.mark.parametrize(
    "first, second",
    [
        (("include", None), ("exclude", "Not a case report")),
        (("exclude", "Not a case report"), ("exclude", "Duplicate patient")),
        (("maybe", None), ("include", None)),
    ],
)
def test_any_other_pair_is_a_conflict_a_reviewer_settles(
    search, curator, curator2, reviewer, first, second
):
    (paper,) = found(search, 1002)
    for by, (decision, why) in ((curator, first), (curator2, second)):
        decide_candidate(
            paper, decision, by=by, reason=reason(why) if why else None, assign_to=curator
        )
    paper.refresh_from_db()
    assert paper.status == "conflict"
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["conflicts"], counts["awaiting"], counts["screened"]) == (1, 1, 0)

    # A curator (even one of the two) cannot settle it; a reviewer does.
    with pytest.raises(ValidationError, match="a reviewer settles it"):
        decide_candidate(paper, "maybe", by=curator)
    settled = decide_candidate(paper, "exclude", by=reviewer, reason=reason())
    paper.refresh_from_db()
    assert paper.status == "exclude" and settled.settles
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["conflicts"], counts["excluded"]) == (0, 1)


def test_two_maybes_agree(search, curator, curator2):
    (paper,) = found(search, 1003)
    decide_candidate(paper, "maybe", by=curator)
    decide_candidate(paper, "maybe", by=curator2)
    paper.refresh_from_db()
    assert paper.status == "maybe"


def test_single_screening_is_unchanged_and_the_setting_applies_to_new_papers(
    search, curator, reviewer
):
    (before,) = found(search, 1004)
    set_dual_screening(search, False, by=reviewer)
    (after,) = found(search, 1005)
    assert before.dual and not after.dual
    decide_candidate(after, "maybe", by=curator)
    after.refresh_from_db()
    assert after.status == "maybe"
    with pytest.raises(ValidationError, match="Only reviewers"):
        set_dual_screening(search, True, by=curator)


def test_the_inbox_is_blind_and_hides_a_paper_from_the_curator_who_decided_it(
    client, search, curator, curator2
):
    (paper,) = found(search, 1006)
    client.force_login(curator)
    response = client.post(
        reverse("screening:decide", args=[paper.pk]),
        {"decision": "exclude", "reason": reason().pk, "status": "new"},
        follow=True,
    )
    assert "a second curator screens it without seeing it" in response.content.decode()
    assert f'id="candidate-{paper.pk}"' not in response.content.decode()

    client.force_login(curator2)
    page = client.get(reverse("screening:inbox")).content.decode()
    card = page.split(f'id="candidate-{paper.pk}"', 1)[1].split("</article>", 1)[0]
    shown = card.split("<form", 1)[0]  # what the card says (the form lists every reason)
    assert "decide without seeing the other screener" in shown
    assert "Excluded" not in shown and "Not a case report" not in shown
    assert curator.username not in shown


def test_the_conflicts_page_shows_both_decisions_and_a_reviewers_decision_settles(
    client, search, curator, curator2, reviewer
):
    (paper,) = found(search, 1007)
    decide_candidate(paper, "include", by=curator, assign_to=curator)
    decide_candidate(paper, "exclude", by=curator2, reason=reason())

    client.force_login(curator)
    assert client.get(reverse("screening:conflicts")).status_code == 403
    inbox = client.get(reverse("screening:inbox")).content.decode()
    assert f'id="candidate-{paper.pk}"' not in inbox

    client.force_login(reviewer)
    inbox = client.get(reverse("screening:inbox")).content.decode()
    assert "Conflicts of dual screening" in inbox
    page = client.get(reverse("screening:conflicts")).content.decode()
    card = page.split(f'id="candidate-{paper.pk}"', 1)[1].split("</article>", 1)[0]
    assert "Included" in card and curator.username in card
    assert "Excluded: Not a case report" in card and curator2.username in card
    response = client.post(
        reverse("screening:decide", args=[paper.pk]),
        {"decision": "include", "assign_to": curator.pk, "status": "conflict"},
    )
    assert response["Location"].startswith(reverse("screening:conflicts"))
    paper.refresh_from_db()
    assert (paper.status, paper.assigned_to) == ("include", curator)
    assert "No conflict to settle." in client.get(reverse("screening:conflicts")).content.decode()


def test_a_reviewer_sets_dual_screening_on_the_page(client, reviewer):
    search = SavedSearch.objects.create(name="DFSP", query="dfsp[tiab]")
    client.force_login(reviewer)
    url = reverse("screening:dual_set", args=[search.pk])
    assert client.post(url, {"dual": "1"}).status_code == 302
    page = client.get(reverse("screening:dual_searches")).content.decode()
    row = page.split(f'data-testid="search-{search.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "Two curators, blind" in row
    client.post(url, {"dual": "0"})
    page = client.get(reverse("screening:dual_searches")).content.decode()
    row = page.split(f'data-testid="search-{search.pk}"', 1)[1].split("</tr>", 1)[0]
    assert "One curator" in row


def test_a_reviewer_names_the_curators_a_search_notifies_on_the_page(
    client, reviewer, curator, reader
):
    from screening.models import SearchCurator

    search = SavedSearch.objects.create(name="DFSP", query="dfsp[tiab]")
    client.force_login(reviewer)
    url = reverse("screening:search_curators", args=[search.pk])
    done = client.post(url, {"curator": [curator.pk]}, follow=True).content.decode()
    assert f"Saved search “DFSP” notifies {curator.username}." in done
    row = done.split(f'data-testid="search-{search.pk}"', 1)[1].split("</tr>", 1)[0]
    assert f'value="{curator.pk}" checked' in row
    # A reader is no curator: refused, nothing changed; "x" is not a user.
    refused = client.post(url, {"curator": [reader.pk]}, follow=True).content.decode()
    assert f"Not curators: {reader.username}." in refused
    client.post(url, {"curator": ["x"]})
    assert list(SearchCurator.objects.values_list("user", flat=True)) == [curator.pk]
    client.post(url, {})  # nobody: every curator again
    assert not SearchCurator.objects.exists()
