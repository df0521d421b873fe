"""manage.py fetch_pubmed PMID [PMID ...] [--sync]"""

import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from citations.models import Citation, FetchJob
from tests.conftest import ROOT, subprocess_env

pytestmark = pytest.mark.django_db


def test_sync_fetches_here_and_prints_each_outcome(fake_eutils, capsys):
    call_command("fetch_pubmed", "35560368", "9997", "--sync")
    out = capsys.readouterr().out
    assert "35560368: added" in out
    assert "9997: added" in out
    assert "new 2, updated 0, failed 0" in out
    assert set(Citation.objects.values_list("pmid", flat=True)) == {35560368, 9997}
    assert FetchJob.objects.get().source == "fetch_pubmed command"


def test_sync_reports_failures_and_exits_with_an_error(fake_eutils, capsys):
    with pytest.raises(CommandError, match="new 1, updated 0, failed 2"):
        call_command("fetch_pubmed", "35560368", "abc", "1", "--sync")
    err = capsys.readouterr().err
    assert "abc: “abc” is not a PMID (35560368), a DOI" in err
    assert "1: PubMed has no record with PMID 1." in err
    assert Citation.objects.count() == 1


def test_every_form_of_the_one_grammar_is_understood_by_the_command(fake_eutils, capsys):
    """Issue 12 item 3: the web form took a PubMed link without a scheme, the command
    refused it. A PMC id becomes its PMID through esearch (the fake E-utilities server,
    recorded article pubmed4.xml: PMID 27797938 is PMC5442267)."""
    call_command(
        "fetch_pubmed",
        "pubmed.ncbi.nlm.nih.gov/35560368/",
        "PMID: 9997",
        "https://pmc.ncbi.nlm.nih.gov/articles/PMC5442267/",
        "--sync",
    )
    out = capsys.readouterr().out
    assert "35560368: added" in out and "9997: added" in out and "PMC5442267: added" in out
    assert set(Citation.objects.values_list("pmid", flat=True)) == {35560368, 9997, 27797938}
    assert Citation.objects.get(pmid=27797938).pmcid == "PMC5442267"


def test_a_pmc_id_pubmed_does_not_know_fails_with_the_reason(fake_eutils, capsys):
    with pytest.raises(CommandError, match="failed 1"):
        call_command("fetch_pubmed", "PMC1", "--sync")
    assert "PMC1: PubMed has no article with the PMC id PMC1." in capsys.readouterr().err


def test_without_sync_a_job_is_queued_and_its_page_printed(
    fake_eutils, capsys, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://rarederm.example.org"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        call_command("fetch_pubmed", "35560368")
    job = FetchJob.objects.get()
    assert len(callbacks) == 1
    assert f"https://rarederm.example.org/citations/jobs/{job.pk}/" in capsys.readouterr().out


def test_nothing_to_fetch_is_an_error():
    with pytest.raises(CommandError, match="at least one"):
        call_command("fetch_pubmed", " ")


@pytest.mark.django_db(transaction=True)
def test_with_no_broker_a_new_process_runs_the_job_it_queued(fake_eutils):
    """As under `make run`: no broker, so the task queued by name runs inline, in a
    process that had not imported the tasks modules."""
    result = subprocess.run(
        [sys.executable, "manage.py", "fetch_pubmed", "35560368"],
        cwd=ROOT,
        env=subprocess_env(CELERY_BROKER_URL="", **fake_eutils.worker_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "(finished)" in result.stdout
    assert Citation.objects.filter(pmid=35560368).exists()
    assert FetchJob.objects.get().items.get().status == "new"
