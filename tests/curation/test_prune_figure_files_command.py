"""manage.py prune_figure_files: the files no figure refers to go; the others stay."""

import os
import time
from io import StringIO

import pytest
from django.core.management import call_command

from curation.actions.figures import attach_figure, remove_figure
from tests.factories import CaseFactory
from tests.figure_files import jpeg, png, stored_files

pytestmark = pytest.mark.django_db


def _age(folder, days=2):
    old = time.time() - days * 86400
    for path in folder.rglob("*"):
        if path.is_file():
            os.utime(path, (old, old))


def run(*args):
    out = StringIO()
    call_command("prune_figure_files", *args, stdout=out)
    return out.getvalue()


def test_a_removed_figures_files_go_and_the_others_stay(
    curator, figure_storage, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        kept = attach_figure(case, by=curator, data=jpeg(), caption="k", licence="CC0-1.0")
        gone = attach_figure(case, by=curator, data=png(), caption="g", licence="CC0-1.0")
    remove_figure(gone, by=curator)
    assert len(stored_files(figure_storage)) == 8
    _age(figure_storage)
    out = run("--dry-run")
    assert "4 unused file(s) would be removed." in out and gone.sha256 in out
    assert len(stored_files(figure_storage)) == 8  # a dry run removes nothing
    assert "4 unused file(s) removed." in run()
    assert all(kept.sha256 in name for name in stored_files(figure_storage))
    assert len(stored_files(figure_storage)) == 4


def test_a_recent_file_is_left_alone(curator, figure_storage):
    case = CaseFactory(created_by=curator)
    figure = attach_figure(case, by=curator, data=png(), caption="g", licence="CC0-1.0")
    remove_figure(figure, by=curator)
    assert "0 unused file(s) removed." in run()  # it may be an upload being committed
    assert len(stored_files(figure_storage)) == 1


def test_nothing_stored_yet_is_nothing_to_remove(figure_storage):
    assert "0 unused file(s) removed." in run()
