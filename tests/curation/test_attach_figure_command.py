"""manage.py attach_figure: the upload form's checks, for scripted imports."""

import pytest
from django.core.management import CommandError, call_command

from curation.models import Figure
from tests.factories import CaseFactory, make_published_case
from tests.figure_files import (
    SVG_WITH_SCRIPT,
    jpeg,
    png_bomb,
    stored_files,
)

pytestmark = pytest.mark.django_db


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command("attach_figure", *map(str, args), stdout=out)
    return out.getvalue()


def test_the_command_attaches_a_figure_with_its_fields(
    curator, tmp_path, figure_storage, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    path = tmp_path / "fig2b.jpg"
    path.write_bytes(jpeg())
    with django_capture_on_commit_callbacks(execute=True):
        out = run(
            case.pk,
            path,
            "--caption",
            "ALK, cytoplasmic",
            "--licence",
            "CC-BY-4.0",
            "--stain",
            "ALK",
            "--magnification",
            "x400",
            "--credit",
            "Smith 2022",
            "--panel",
            "2B",
        )
    assert f"Figure 2B added to {case.number}" in out
    figure = Figure.objects.get()
    assert (figure.case, figure.magnification, figure.credit) == (case, 400, "Smith 2022")
    assert figure.derivatives_ready  # the task ran once the figure was committed


def test_on_a_published_case_the_command_says_which_revision_holds_it(
    curator, curator2, tmp_path, figure_storage
):
    case = make_published_case(created_by=curator)
    path = tmp_path / "f.jpg"
    path.write_bytes(jpeg())
    out = run(case.pk, path, "--caption", "c", "--licence", "CC0-1.0", "--by", curator2.username)
    figure = Figure.objects.get()
    assert figure.case.revision_of == case
    assert f"the revision of {case.number}" in out and "submit the revision" in out


@pytest.mark.parametrize(
    ("content", "reason"),
    [(SVG_WITH_SCRIPT, "SVG"), (None, "2,500 million pixels")],
)
def test_a_refused_file_exits_non_zero_with_the_reason_and_nothing_stored(
    content, reason, curator, tmp_path, figure_storage
):
    case = CaseFactory(created_by=curator)
    path = tmp_path / "figure.png"
    path.write_bytes(content if content is not None else png_bomb())
    with pytest.raises(CommandError) as caught:
        run(case.pk, path, "--caption", "c", "--licence", "CC-BY-4.0")
    assert reason in str(caught.value) and "nothing stored" in str(caught.value)
    assert not Figure.objects.exists() and stored_files(figure_storage) == []


def test_an_unknown_licence_is_refused_by_name(curator, tmp_path, figure_storage):
    path = tmp_path / "f.jpg"
    path.write_bytes(jpeg())
    with pytest.raises(CommandError, match=r"licence: “CC-BY-5\.0” is not a licence"):
        run(CaseFactory(created_by=curator).pk, path, "--caption", "c", "--licence", "CC-BY-5.0")


def test_a_missing_case_or_file_is_named(curator, tmp_path):
    with pytest.raises(CommandError, match="No case 999999"):
        run(999999, tmp_path / "x.png", "--caption", "c", "--licence", "CC0-1.0")
    case = CaseFactory(created_by=curator)
    with pytest.raises(CommandError, match="No such file"):
        run(case.pk, tmp_path / "x.png", "--caption", "c", "--licence", "CC0-1.0")
