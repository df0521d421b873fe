"""In a real browser, issue 16 end to end: a reviewer saves a PubMed search (PubMed is
asked when it is saved), beat's task runs it on a real worker against the fake
E-utilities server, its papers wait in screening (a paper a reader suggested before is
one record, its second source a duplicate), the reviewer screens them, the PRISMA page
adds up at every step, and the included paper reaches its curator, whose report page
starts with the citation already fetched. In dual mode: two curators screen blind, one
paper agreed, one in conflict, which a reviewer settles on the conflicts page."""

import time

import pytest
from playwright.sync_api import expect

from citations.models import Citation, SavedSearch, SavedSearchRun
from config.celery import queue_task
from curation.models import Case
from screening.actions import add_candidate
from screening.models import Candidate
from screening.prisma import prisma_counts
from tests.conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "cutaneous IMT"
QUERY = '"inflammatory myofibroblastic tumor"[tiab] AND (skin[tiab] OR cutaneous[tiab])'
# Recorded PubMed articles the fake server serves, with their entry dates.
FOUND = {35560368: "2022/05/13", 27797938: "2016/11/01", 28775130: "2017/08/04"}
SUGGESTED = 27797938


def assert_identities(counts: dict) -> None:
    assert counts["identified_total"] - counts["duplicates"] == counts["records"], counts
    assert counts["records"] == counts["awaiting"] + counts["screened"], counts
    assert counts["screened"] == counts["excluded"] + counts["included"] + counts["maybe"]


def prisma_page(page, live_server, search: str = "") -> dict[str, int]:
    """The numbers the PRISMA page shows (the table a reviewer reads)."""
    page.goto(f"{live_server.url}/screening/prisma/" + (f"?search={search}" if search else ""))
    table = page.get_by_test_id("prisma")
    return {
        name: int(table.get_by_test_id(name).inner_text())
        for name in ("identified", "duplicates", "records", "screened", "included")
    }


def decide(page, pmid: int, button: str, *, reason: str = "", curator=None) -> None:
    card = page.locator(f"#candidate-{Candidate.objects.get(pmid=pmid).pk}")
    if reason:
        card.get_by_label("Reason to exclude").select_option(label=reason)
    if curator is not None:
        card.get_by_label("Curator").select_option(label=curator.username)
    card.get_by_role("button", name=button, exact=True).click()
    expect(card).to_have_count(0)


def test_a_saved_search_runs_on_a_worker_and_its_papers_are_screened_and_curated(
    page, live_server, reviewer, curator, fake_eutils, start_worker
):
    fake_eutils.add_search(QUERY, FOUND)
    add_candidate(kind="suggestion", pmid=SUGGESTED, email="reader@example.org")

    # A reviewer saves the search; PubMed takes the query.
    login(page, live_server, reviewer)
    page.get_by_role("link", name="Saved searches").click()
    page.get_by_label("Name").fill(NAME)
    page.get_by_label("Query").fill(QUERY)
    page.get_by_label("Schedule").select_option("weekly")
    page.get_by_role("button", name="Save the search").click()
    expect(page.get_by_text(f"Saved search “{NAME}” saved; PubMed took it.")).to_be_visible()
    assert fake_eutils.count("esearch") == 1
    search = SavedSearch.objects.get(name=NAME)
    assert search.enabled

    # Beat's hourly task finds it due; a real worker runs it against the fake server.
    worker = start_worker(**fake_eutils.worker_env)
    queue_task("citations.run_due_saved_searches")
    deadline = time.monotonic() + 60
    runs = SavedSearchRun.objects.filter(search=search).exclude(state="running")
    while not runs.exists():
        assert time.monotonic() < deadline, worker.output()
        time.sleep(0.3)
    run = runs.get()
    assert (run.state, run.found, run.added) == ("done", 3, 3), (run.error, worker.output())
    assert set(Citation.objects.values_list("pmid", flat=True)) == set(FOUND)

    # Three papers, four sources: the suggested paper is one record.
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["identified_total"], counts["duplicates"], counts["records"]) == (4, 1, 3)
    assert counts["awaiting"] == 3
    shown = prisma_page(page, live_server)
    assert shown == {"identified": 4, "duplicates": 1, "records": 3, "screened": 0, "included": 0}
    # For the saved search alone: what it found first (the suggestion came before it).
    assert_identities(prisma_counts(NAME))
    assert prisma_page(page, live_server, NAME)["records"] == 2

    page.goto(f"{live_server.url}/screening/")
    cards = page.locator("article.candidate")
    expect(cards).to_have_count(3)
    expect(page.get_by_text("reader@example.org")).to_have_count(0)  # no reader's address
    decide(page, 28775130, "Exclude", reason="Not a case report")
    assert_identities(prisma_counts())
    decide(page, 27797938, "Maybe")
    assert_identities(prisma_counts())
    decide(page, 35560368, "Include", curator=curator)
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["excluded"], counts["maybe"], counts["included"]) == (1, 1, 1)
    assert counts["excluded_by_reason"] == [("Not a case report", 1)]
    shown = prisma_page(page, live_server)
    assert shown == {"identified": 4, "duplicates": 1, "records": 3, "screened": 3, "included": 1}
    svg = page.request.get(
        live_server.url + page.get_by_test_id("prisma-svg").get_attribute("href")
    )
    assert svg.status == 200 and svg.headers["content-type"].startswith("image/svg+xml")

    # The included paper is on its curator's list; the report starts from the citation.
    page.context.clear_cookies()
    login(page, live_server, curator)
    page.get_by_role("link", name="To curate").click()
    title = Citation.objects.get(pmid=35560368).title
    expect(page.get_by_text(title[:40])).to_be_visible()
    page.get_by_role("button", name="Start the report").click()
    expect(page).to_have_url(f"{live_server.url}/curate/reports/35560368/")
    expect(page.get_by_text(title[:40]).first).to_be_visible()
    # The included paper becomes a draft, and the PRISMA counts end with it.
    page.get_by_role("button", name="Add a case").click()
    page.wait_for_url("**/curate/cases/*/")
    draft = Case.objects.get(citation__pmid=35560368)
    assert (draft.status, draft.created_by) == ("draft", curator)
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["cases_curated"], counts["cases_published"]) == (1, 0)


def test_in_dual_mode_two_curators_screen_blind_and_a_reviewer_settles_their_conflict(
    page, live_server, reviewer, curator, curator2, fake_eutils
):
    from citations.actions.searches import run_saved_search

    fake_eutils.add_search(QUERY, {35560368: "2022/05/13", 27797938: "2016/11/01"})
    search = SavedSearch.objects.create(name=NAME, query=QUERY)

    # The reviewer asks for two screeners before the search first runs.
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/screening/")
    page.get_by_role("link", name="Saved searches in screening").click()
    page.get_by_test_id(f"search-{search.pk}").get_by_role(
        "button", name="Use two curators, blind"
    ).click()
    expect(page.get_by_text("two curators screen the papers it finds")).to_be_visible()
    assert run_saved_search(search.pk).added == 2
    agreed, disputed = 35560368, 27797938

    page.context.clear_cookies()
    login(page, live_server, curator)
    page.goto(f"{live_server.url}/screening/")
    decide(page, agreed, "Include", curator=curator)
    decide(page, disputed, "Exclude", reason="Not a case report")
    expect(page.get_by_text("Nothing here.")).to_be_visible()  # both wait for the second
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["awaiting"], counts["screened"]) == (2, 0)

    page.context.clear_cookies()
    login(page, live_server, curator2)
    page.goto(f"{live_server.url}/screening/")
    expect(page.locator("article.candidate")).to_have_count(2)
    expect(page.get_by_test_id("dual")).to_have_count(2)
    expect(page.get_by_test_id("decision")).to_have_count(0)  # blind
    decide(page, agreed, "Include", curator=curator2)
    decide(page, disputed, "Exclude", reason="Not rare")
    expect(page.get_by_text("the two screeners disagree")).to_be_visible()
    counts = prisma_counts()
    assert_identities(counts)
    assert (counts["included"], counts["conflicts"], counts["awaiting"]) == (1, 1, 1)

    page.context.clear_cookies()
    login(page, live_server, reviewer)
    page.goto(f"{live_server.url}/screening/")
    page.get_by_role("link", name="Conflicts of dual screening").click()
    card = page.locator(f"#candidate-{Candidate.objects.get(pmid=disputed).pk}")
    expect(card.get_by_test_id("conflict")).to_contain_text("Excluded: Not a case report")
    expect(card.get_by_test_id("conflict")).to_contain_text("Excluded: Not rare")
    card.get_by_label("Reason to exclude").select_option(label="Not rare")
    card.get_by_role("button", name="Exclude", exact=True).click()
    expect(page.get_by_text("No conflict to settle.")).to_be_visible()
    shown = prisma_page(page, live_server, NAME)
    assert shown == {"identified": 2, "duplicates": 0, "records": 2, "screened": 2, "included": 1}
    assert_identities(prisma_counts(NAME))
    assert Candidate.objects.get(pmid=agreed).assigned_to == curator2
