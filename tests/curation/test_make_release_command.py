"""manage.py make_release: a release made from the registry reads back (issue 17).

The files are read from the storage's folder as a user would after a download:
checksums verified with `sha256sum -c`, every table parsed, the changelog right.
"""

import csv
import io
import json
import subprocess

import psycopg2
import pytest
import rispy
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command

from curation.actions.cases import update_case
from curation.actions.releases import make_release
from curation.actions.review import approve_case, start_revision
from curation.actions.submission import submit_case
from curation.models import Case, Release
from tests.curation.searchdata import build_registry


@pytest.fixture
def release_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "releases"},
        },
    }
    return tmp_path / "releases"


@pytest.fixture
def registry(db):
    return build_registry()


def make(name):
    out = io.StringIO()
    call_command("make_release", "--name", name, stdout=out)
    return out.getvalue()


def rows(path, delimiter=","):
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=delimiter))


def test_a_release_holds_every_published_case_and_reads_back(registry, release_dir):
    output = make("2026-12")
    assert "Release 2026-12: 5 cases" in output
    folder = release_dir / "2026-12"
    check = subprocess.run(
        ["sha256sum", "--strict", "-c", "SHA256SUMS"],
        cwd=folder,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 18

    published = {c.pk for name, c in registry.items() if name != "draft"}
    cases = rows(folder / "cases.csv")
    assert {int(r["case_id"]) for r in cases} == published
    assert {int(r["case_id"]) for r in rows(folder / "cases.tsv", "\t")} == published
    assert not (folder / "cases.tsv").read_bytes().startswith(b"\xef\xbb\xbf")
    scalp = next(
        r for r in json.loads((folder / "cases.json").read_text()) if r["pmid"] == 35560368
    )
    assert scalp["age"] == 38 and scalp["fusions"] == "CARS1::ALK"

    ihc = rows(folder / "ihc.csv")
    scalp_ihc = [r for r in ihc if int(r["case_id"]) == registry["scalp_imt"].pk]
    assert [(r["marker"], r["result"]) for r in scalp_ihc][:2] == [
        ("ALK", "positive"),
        ("SMA", "positive"),
    ]
    assert {r["case_version"] for r in ihc} == {"3"}
    molecular = rows(folder / "molecular.csv")
    assert {r["finding"] for r in molecular if r["kind"] == "fusion"} == {
        "CARS1::ALK",
        "TPM3::ALK",
        "?::ALK",
        "COL1A1::PDGFB",
    }
    cars = next(r for r in molecular if r["finding"] == "CARS1::ALK")
    assert (cars["gene_hgnc_id"], cars["three_prime_hgnc_id"]) == ("HGNC:1493", "HGNC:427")
    mdm2 = next(r for r in molecular if r["kind"] == "copy_number")
    assert (int(mdm2["case_id"]), mdm2["finding"], mdm2["copy_number"]) == (
        registry["dfsp"].pk,
        "MDM2 amplification",
        "amplification",
    )

    assert len(rows(folder / "citations.csv")) == 5
    ris = rispy.loads((folder / "citations.ris").read_text(encoding="utf-8"))
    assert len(ris) == 5
    csl = json.loads((folder / "citations.csl.json").read_text())
    assert {item["PMID"] for item in csl} >= {"35560368"}
    assert any(r["symbol"] == "CARS1" for r in rows(folder / "genes.csv"))
    assert {v["vocabulary"] for v in json.loads((folder / "vocabularies.json").read_text())} >= {
        "diagnosis",
        "gene",
    }

    readme = (folder / "README.md").read_text()
    assert "| `ihc_positive` |" in readme and "| `three_prime_hgnc_id` |" in readme
    assert "Creative Commons Attribution 4.0" in (folder / "LICENSE.txt").read_text()
    assert "release 2026-12" in (folder / "CITATION.txt").read_text()
    log = json.loads((folder / "changelog.json").read_text())
    assert log["previous_release"] is None
    assert len(log["cases_added"]) == 5


def test_an_unchanged_registry_gives_an_empty_changelog_and_a_revision_shows(
    registry, release_dir, curator, reviewer
):
    make("2026-11")
    make("2026-12")
    second = Release.objects.get(name="2026-12")
    assert second.changelog["previous_release"] == "2026-11"
    assert not second.changelog["cases_added"] and not second.changelog["cases_changed"]
    assert "No changes." in (release_dir / "2026-12" / "CHANGELOG.md").read_text()

    case = registry["dfsp"]
    revision = start_revision(case, curator)
    update_case(revision, by=curator, expected_version=revision.version, site_detail="shoulder")
    revision.refresh_from_db()
    submit_case(revision, by=curator, expected_version=revision.version)
    approve_case(revision, reviewer, "Site from the figure legend.")
    case.refresh_from_db()
    make("2027-01")
    log = Release.objects.get(name="2027-01").changelog
    assert log["cases_changed"] == [
        {"case_id": case.pk, "from_version": 3, "to_version": case.version}
    ]
    assert (
        f"case {case.pk}: version 3 → {case.version}"
        in (release_dir / "2027-01" / "CHANGELOG.md").read_text()
    )


def test_a_name_taken_is_refused_and_the_release_is_not_rewritten(registry, release_dir):
    make("2026-12")
    before = (release_dir / "2026-12" / "SHA256SUMS").read_bytes()
    with pytest.raises(CommandError, match="exists already"):
        make("2026-12")
    assert (release_dir / "2026-12" / "SHA256SUMS").read_bytes() == before
    assert Release.objects.count() == 1


@pytest.mark.parametrize("name", ["../etc", "a/b", "2026..12", "", " 2026", "x" * 41])
def test_a_name_with_a_slash_or_dots_is_refused_and_nothing_is_written(
    registry, release_dir, name
):
    with pytest.raises(CommandError, match="A release name is"):
        call_command("make_release", f"--name={name}" if name else "--name= ")
    assert not release_dir.exists() or not any(release_dir.rglob("*"))
    assert not Release.objects.exists()


class FailingStorage(FileSystemStorage):
    """A storage whose disk fills after a few files (a real folder that stops taking files)."""

    saves = 0

    def _save(self, name, content):
        FailingStorage.saves += 1
        if FailingStorage.saves > 5:
            raise OSError(28, "No space left on device")
        return super()._save(name, content)


def test_a_storage_that_fails_half_way_lists_nothing_and_the_next_try_starts_clean(
    registry, release_dir, settings
):
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "tests.curation.test_make_release_command.FailingStorage",
            "OPTIONS": {"location": release_dir},
        },
    }
    FailingStorage.saves = 0
    with pytest.raises(OSError, match="No space"):
        make_release("2026-12")
    assert not Release.objects.exists()
    assert not any((release_dir / "2026-12").iterdir())  # what was written is removed

    # A leftover of a try that could not even clean up is removed by the next one.
    (release_dir / "2026-12" / "cases.csv").write_text("half a file")
    settings.STORAGES = {
        **settings.STORAGES,
        "releases": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": release_dir},
        },
    }
    make("2026-12")
    assert rows(release_dir / "2026-12" / "cases.csv")[0]["case_id"]
    assert sorted(p.name for p in (release_dir / "2026-12").iterdir()) == sorted(
        item["name"] for item in Release.objects.get().files
    )


def test_the_monthly_task_makes_this_months_release_once(registry, release_dir, settings):
    from curation.actions.releases import default_name
    from curation.tasks import make_monthly_release

    assert "curation.make_monthly_release" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert make_monthly_release.delay().get() == default_name()
    assert make_monthly_release.delay().get() == ""  # this month's exists: skipped
    assert Release.objects.count() == 1


def test_a_second_maker_of_the_same_name_is_refused_and_leaves_the_firsts_files(
    registry, release_dir
):
    """Two makers at once (the monthly task and someone at the console): the one that comes
    second is refused before it touches anything, so it cannot remove or overwrite files of
    the release the first one is writing."""
    from django.db import connection

    from curation.actions.releases import release_lock_key

    first = psycopg2.connect(**connection.get_connection_params())
    try:
        with first.cursor() as cursor:  # the first maker, half-way through "2026-12"
            cursor.execute("SELECT pg_advisory_lock(%s)", [release_lock_key("2026-12")])
        (release_dir / "2026-12").mkdir(parents=True)
        (release_dir / "2026-12" / "cases.csv").write_text("the first maker's file")

        with pytest.raises(CommandError, match="being made by another process"):
            make("2026-12")
        assert (release_dir / "2026-12" / "cases.csv").read_text() == "the first maker's file"
        assert sorted(p.name for p in (release_dir / "2026-12").iterdir()) == ["cases.csv"]
        assert not Release.objects.exists()
        make("2026-12-b")  # another name is not held up
    finally:
        # The first maker is done. Its lock is given back explicitly: a closed connection's
        # lock goes only when the server has ended that session, which may be a moment
        # after close() returns (the next make could still find it held).
        with first.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [release_lock_key("2026-12")])
        first.close()
    (release_dir / "2026-12" / "cases.csv").unlink()
    make("2026-12")
    assert Release.objects.filter(name="2026-12").exists()


def test_the_changelog_lists_a_case_added_with_its_version_and_one_withdrawn(
    registry, release_dir
):
    from tests.factories import make_published_case

    make("2026-11")
    added = make_published_case(version=2)
    # No action withdraws a published case yet (retraction watch will); a case that
    # is no longer published, by whatever path, is withdrawn from the next release.
    gone = registry["dfsp"]
    Case.objects.filter(pk=gone.pk).update(status="rejected")
    out = make("2026-12")
    assert "1 cases added, 0 changed, 1 withdrawn since 2026-11" in out
    log = json.loads((release_dir / "2026-12" / "changelog.json").read_text())
    assert log["cases_added"] == [{"case_id": added.pk, "version": 2}]
    assert log["cases_withdrawn"] == [{"case_id": gone.pk, "last_version": gone.version}]
    text = (release_dir / "2026-12" / "CHANGELOG.md").read_text()
    assert f"- case {added.pk} (version 2)" in text
    assert f"- case {gone.pk} (last in version {gone.version})" in text
    ids = {row["case_id"] for row in rows(release_dir / "2026-12" / "cases.csv")}
    assert str(added.pk) in ids and str(gone.pk) not in ids
