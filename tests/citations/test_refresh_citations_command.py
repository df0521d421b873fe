"""refresh_citations: the retraction and correction watch, against the fake E-utilities server.

The retraction comes from tests/fixtures/entrez/edited_notices.xml: the real recorded
PubMed record of PMID 28775130 (pubmed5.xml) with a RetractionIn notice added by hand
(its README says so).
"""

import csv
import io
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from citations import pubmed
from citations.actions import refresh, store_article
from citations.models import Citation, CitationChange, RefreshRun
from curation.models import Case, CaseEvent
from outbox.models import Email
from tests.factories import make_published_case

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
RETRACTED = 28775130  # retracted in edited_notices.xml
CORRECTED = 30108519  # an erratum and an expression of concern in edited_notices.xml


def edited(pmid: int) -> str:
    text = (FIXTURES / "edited_notices.xml").read_text(encoding="utf-8")
    return next(
        a
        for a in re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, re.S)
        if f">{pmid}</PMID>" in a
    )


def stored(name: str) -> Citation:
    """The recorded (unedited) article of a fixture file, stored as it was first fetched."""
    (record,) = list(pubmed.iter_records(FIXTURES / name))
    return store_article(record)[0]


@pytest.fixture
def registry(db, curator, reviewer, reviewer2):
    """Two published cases from two recorded papers; rosa_reviewer published the first."""
    retracted_case = make_published_case(citation=stored("pubmed5.xml"), created_by=curator)
    CaseEvent.objects.create(
        case=retracted_case,
        actor=reviewer,
        from_status="submitted",
        to_status="published",
    )
    other_case = make_published_case(citation=stored("pubmed6.xml"), created_by=curator)
    return retracted_case, other_case


def diagnosis_chart(client, **query):
    response = client.get(reverse("curation:stats"), query)
    chart = next(c for c in response.context["charts"] if c["key"] == "diagnosis")
    return dict(chart["rows"]), response


def test_a_retraction_in_pubmed_marks_the_case_and_removes_it_from_statistics(
    client, fake_eutils, registry, curator, reviewer, reviewer2
):
    retracted_case, _ = registry
    assert diagnosis_chart(client)[0] == {"inflammatory myofibroblastic tumor": 2}
    fake_eutils.add_article(edited(RETRACTED))

    call_command("refresh_citations", "--sync")

    citation = Citation.objects.get(pmid=RETRACTED)
    assert citation.retracted is True
    change = CitationChange.objects.get(citation=citation, kind="retraction")
    assert change.details["pmid"] == 99000001
    rows, response = diagnosis_chart(client)
    assert rows == {"inflammatory myofibroblastic tumor": 1}
    assert "1 case whose paper was retracted is left out" in response.content.decode()
    assert diagnosis_chart(client, retracted="include")[0] == {
        "inflammatory myofibroblastic tumor": 2
    }
    page = client.get(retracted_case.get_absolute_url()).content.decode()
    assert "The paper this case comes from has been retracted." in page
    # Its curator and the reviewer who published it are told; the other reviewer is not.
    emails = Email.objects.filter(kind="case paper retracted")
    assert sorted(e.to[0] for e in emails) == sorted([curator.email, reviewer.email])
    assert all(f"PMID {RETRACTED}" in e.subject for e in emails)


def test_the_search_summary_entity_page_and_stains_leave_the_case_out(
    client, fake_eutils, registry
):
    retracted_case, other_case = registry
    fake_eutils.add_article(edited(RETRACTED))
    call_command("refresh_citations", "--sync")

    search = client.get(reverse("curation:search"))
    assert [c.pk for c in search.context["cases"]] == [other_case.pk]
    search = client.get(reverse("curation:search"), {"retracted": "include"})
    assert {c.pk for c in search.context["cases"]} == {retracted_case.pk, other_case.pk}
    assert client.get(reverse("curation:search_summary")).context["total"] == 1
    entity = client.get(reverse("curation:diagnosis", args=["inflammatory-myofibroblastic-tumor"]))
    assert entity.context["n_cases"] == 1
    bad = client.get(reverse("curation:search"), {"retracted": "yes"})
    assert "Retracted “yes” is not “include”" in bad.content.decode()


def test_exports_and_releases_say_which_cases_come_from_a_retracted_paper(
    client, fake_eutils, registry, settings, tmp_path
):
    retracted_case, other_case = registry
    fake_eutils.add_article(edited(RETRACTED))
    call_command("refresh_citations", "--sync")

    export = client.get(reverse("curation:export", args=["csv"]), {"retracted": "include"})
    rows = list(
        csv.DictReader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig")))
    )
    assert {int(r["case_id"]): r["paper_retracted"] for r in rows} == {
        retracted_case.pk: "yes",
        other_case.pk: "no",
    }
    # A release holds every published case, and says the same.
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path},
        },
    }
    call_command("make_release", "--name", "2026-12", stdout=io.StringIO())
    with (tmp_path / "2026-12" / "cases.csv").open(encoding="utf-8-sig", newline="") as handle:
        released = {int(r["case_id"]): r["paper_retracted"] for r in csv.DictReader(handle)}
    assert released == {retracted_case.pk: "yes", other_case.pk: "no"}


def test_errata_expressions_of_concern_and_metadata_changes_are_recorded(fake_eutils, registry):
    fake_eutils.add_article(edited(CORRECTED))
    original = fake_eutils.article_xml(RETRACTED)
    fake_eutils.add_article(
        original.replace("male pesticide applicators.", "male pesticide applicators in Iowa.")
    )

    call_command("refresh_citations", "--sync")

    kinds = {
        (c.citation.pmid, c.kind): c.details
        for c in CitationChange.objects.select_related("citation")
    }
    assert kinds[(CORRECTED, "erratum")]["pmid"] == 99000002
    assert kinds[(CORRECTED, "concern")]["pmid"] is None
    title = kinds[(RETRACTED, "metadata")]["title"]
    assert title[0].endswith("male pesticide applicators.")
    assert title[1].endswith("male pesticide applicators in Iowa.")
    assert set(kinds) == {(CORRECTED, "erratum"), (CORRECTED, "concern"), (RETRACTED, "metadata")}
    assert not Citation.objects.get(pmid=CORRECTED).retracted
    assert not Email.objects.filter(kind="case paper retracted").exists()


def test_a_second_run_records_nothing_new_and_mails_nobody_again(fake_eutils, registry):
    fake_eutils.add_article(edited(RETRACTED))
    call_command("refresh_citations", "--sync")
    changes, emails = CitationChange.objects.count(), Email.objects.count()

    call_command("refresh_citations", "--sync")

    assert CitationChange.objects.count() == changes
    assert Email.objects.count() == emails


def test_a_bad_ncbi_answer_fails_the_run_cleanly_and_the_next_run_catches_up(
    client, fake_eutils, registry
):
    fake_eutils.add_article(edited(RETRACTED))
    fake_eutils.inject("truncated", times=None, endpoint="efetch")

    with pytest.raises(CommandError, match="failed: efetch of 2 PMID"):
        call_command("refresh_citations", "--sync")

    run = RefreshRun.objects.get()
    assert run.state == RefreshRun.State.FAILED
    assert "cut short" in run.error
    assert not Citation.objects.get(pmid=RETRACTED).retracted
    assert not CitationChange.objects.exists()
    assert diagnosis_chart(client)[0] == {"inflammatory myofibroblastic tumor": 2}

    fake_eutils.clear_faults()
    call_command("refresh_citations", "--sync")

    assert Citation.objects.get(pmid=RETRACTED).retracted
    assert diagnosis_chart(client)[0] == {"inflammatory myofibroblastic tumor": 1}


def test_a_run_that_fails_part_way_keeps_what_it_stored_and_the_next_starts_with_the_rest(
    fake_eutils, registry, monkeypatch
):
    monkeypatch.setattr(refresh, "REFRESH_BATCH", 1)
    fake_eutils.add_article(edited(RETRACTED))
    fake_eutils.add_article(edited(CORRECTED))
    # Never checked since it was stored: the run takes it first.
    Citation.objects.filter(pmid=CORRECTED).update(fetched_at=None)
    fetch = refresh.entrez.fetch_articles
    calls = []

    def second_batch_fails(pmids):
        calls.append(pmids)
        if len(calls) == 2 and not fake_eutils.requests[-1].fault:
            fake_eutils.inject("500", times=None, endpoint="efetch")
        return fetch(pmids)

    monkeypatch.setattr(refresh.entrez, "fetch_articles", second_batch_fails)
    with pytest.raises(CommandError, match="HTTP 500"):
        call_command("refresh_citations", "--sync")

    assert calls == [[CORRECTED], [RETRACTED]]
    run = RefreshRun.objects.get()
    assert (run.state, run.checked, run.changed) == (RefreshRun.State.FAILED, 1, 2)
    assert set(CitationChange.objects.values_list("citation__pmid", flat=True)) == {CORRECTED}
    assert not Citation.objects.get(pmid=RETRACTED).retracted

    fake_eutils.clear_faults()
    monkeypatch.setattr(refresh.entrez, "fetch_articles", lambda p: calls.append(p) or fetch(p))
    calls.clear()
    call_command("refresh_citations", "--sync")

    assert calls == [[RETRACTED], [CORRECTED]]  # what the failed run did not reach, first
    assert Citation.objects.get(pmid=RETRACTED).retracted
    assert CitationChange.objects.filter(kind="retraction").count() == 1


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--pmid", "123"],
            "Not in RareDerm, so not refreshed (fetch them first with fetch_pubmed): PMID 123",
        ),
        (["--pmid", "abc"], "“abc” is not a PMID"),
    ],
)
def test_pmids_not_stored_or_not_pmids_are_refused_by_name(db, arguments, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("refresh_citations", "--sync", *arguments)
    assert not RefreshRun.objects.exists()


def test_pmid_refreshes_only_that_citation(fake_eutils, registry):
    fake_eutils.add_article(edited(RETRACTED))
    fake_eutils.add_article(edited(CORRECTED))

    call_command("refresh_citations", "--sync", "--pmid", str(CORRECTED))

    assert set(CitationChange.objects.values_list("citation__pmid", flat=True)) == {CORRECTED}
    efetches = [r for r in fake_eutils.requests if r.endpoint == "efetch"]
    assert [r.ids for r in efetches] == [[str(CORRECTED)]]


def test_without_sync_the_run_is_a_row_queued_for_a_worker(
    fake_eutils, registry, django_capture_on_commit_callbacks, capsys
):
    fake_eutils.add_article(edited(RETRACTED))
    with django_capture_on_commit_callbacks(execute=True):
        call_command("refresh_citations")
    assert "queued" in capsys.readouterr().out
    run = RefreshRun.objects.get()
    assert run.state == RefreshRun.State.DONE  # tasks run inline in the tests
    assert Citation.objects.get(pmid=RETRACTED).retracted


def test_monthly_beat_entry_runs_the_watch(settings):
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "citations.refresh_cited" in tasks


def test_every_cited_pmid_is_fetched_in_batches_of_at_most_200(fake_eutils, db, curator):
    pmids = fake_eutils.add_synthetic(205)
    records = list(pubmed.parse_pubmed_xml(fake_eutils.document(pmids)))
    from citations.actions import store_articles

    store_articles(records)
    for citation in Citation.objects.filter(pmid__in=pmids):
        Case.objects.create(citation=citation, created_by=curator)
    uncited = stored("pubmed4.xml")

    call_command("refresh_citations", "--sync")

    efetches = [r for r in fake_eutils.requests if r.endpoint == "efetch"]
    assert sorted(len(r.ids) for r in efetches) == [5, 200]
    asked = {int(i) for r in efetches for i in r.ids}
    assert asked == set(pmids)  # the uncited paper is not asked for
    assert uncited.pmid not in asked
