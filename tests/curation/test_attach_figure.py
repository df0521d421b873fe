"""attach_figure / remove_figure: the one way a figure gets onto a case, and what it refuses."""

import io

import pytest
from PIL import Image

from curation.actions.cases import NotEditable
from curation.actions.figures import (
    FigureRefused,
    attach_figure,
    parse_magnification,
    parse_stain,
    remove_figure,
)
from curation.actions.review import approve_case, start_revision
from curation.actions.submission import submit_case
from curation.models import Case, Figure
from tests.factories import CaseFactory, FigureFactory, make_published_case, marker
from tests.figure_files import (
    SVG_WITH_SCRIPT,
    jpeg,
    many_page_tiff,
    png,
    png_bomb,
    renamed_executable,
    stored_files,
    truncated_jpeg,
)

pytestmark = pytest.mark.django_db

GOOD = {"caption": "Spindle cells in fascicles (H&E).", "licence": "CC-BY-4.0"}


def attach(case, by, data, **fields):
    return attach_figure(case, by=by, data=data, **{**GOOD, **fields})


def test_a_curator_attaches_a_figure_to_a_draft(
    curator, figure_storage, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        figure = attach(
            case,
            curator,
            jpeg(exif=True),
            stain="ALK",
            magnification="\u00d7200",
            credit="Smith et al., J Cutan Pathol 2022",
            panel_label="2B",
        )
    figure.refresh_from_db()
    assert figure.case == case
    assert (figure.stain, figure.marker, figure.magnification) == ("ihc", marker("ALK"), 200)
    assert figure.stain_display == "ALK (IHC)" and figure.title == "Figure 2B"
    assert figure.content_type == "image/jpeg" and (figure.width, figure.height) == (400, 300)
    case.refresh_from_db()
    assert case.version == 2  # a child row: the case's version moves on
    # The stored original has no EXIF; the task made the three web copies.
    with figure.original.open("rb") as stored:
        assert not Image.open(io.BytesIO(stored.read())).getexif()
    assert figure.derivatives_ready
    assert len(stored_files(figure_storage)) == 4
    with figure.webp.open("rb") as webp:
        assert Image.open(webp).format == "WEBP"


def test_the_type_comes_from_the_content_not_the_name(curator, figure_storage):
    # A PNG uploaded as "figure.jpg": there is no name to trust, only the bytes.
    figure = attach(CaseFactory(created_by=curator), curator, png())
    assert figure.content_type == "image/png"
    assert figure.original.name.endswith("/original.png")


HOSTILE = {
    "renamed executable": (renamed_executable, "Windows program"),
    "SVG with script": (lambda: SVG_WITH_SCRIPT, "SVG"),
    "50,000 x 50,000 PNG": (png_bomb, "2,500 million pixels"),
    "truncated JPEG": (truncated_jpeg, "damaged or cut short"),
    "TIFF with 5,000 pages": (lambda: many_page_tiff(5000), "more than 10 pages"),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_refused_with_a_clear_message_and_nothing_is_stored(
    name, curator, figure_storage, django_capture_on_commit_callbacks
):
    make, words = HOSTILE[name]
    case = CaseFactory(created_by=curator)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(FigureRefused) as caught,
    ):
        attach(case, curator, make())
    assert words in caught.value.errors["file"]
    assert list(caught.value.errors) == ["file"]
    assert not Figure.objects.exists()
    assert stored_files(figure_storage) == []
    assert callbacks == []
    case.refresh_from_db()
    assert case.version == 1


def test_every_problem_is_named_by_its_field_at_once(curator, figure_storage):
    with pytest.raises(FigureRefused) as caught:
        attach_figure(
            CaseFactory(created_by=curator),
            by=curator,
            data=truncated_jpeg(),
            caption="  ",
            licence="all rights reserved",
            stain="NOTAMARKER",
            magnification="huge",
        )
    assert set(caught.value.errors) == {"caption", "licence", "stain", "magnification", "file"}
    assert "SPDX" in caught.value.errors["licence"]
    assert not Figure.objects.exists()


def test_the_publishers_permission_must_be_named(curator, figure_storage):
    case = CaseFactory(created_by=curator)
    with pytest.raises(FigureRefused) as caught:
        attach(case, curator, png(), licence="LicenseRef-publisher-permission")
    assert "permission_reference" in caught.value.errors
    figure = attach(
        case,
        curator,
        png(),
        licence="LicenseRef-publisher-permission",
        permission_reference="Wiley licence 5512345678901",
    )
    assert figure.is_public


def test_an_spdx_id_is_read_in_any_case(curator, figure_storage):
    figure = attach(CaseFactory(created_by=curator), curator, png(), licence="cc-by-nc-4.0")
    assert figure.licence == "CC-BY-NC-4.0"


def test_another_curators_draft_takes_no_figure(curator, curator2, figure_storage):
    with pytest.raises(NotEditable):
        attach(CaseFactory(created_by=curator), curator2, png())
    assert stored_files(figure_storage) == []


def test_on_a_published_case_the_figure_goes_into_a_revision_for_review(
    curator, curator2, reviewer, figure_storage, django_capture_on_commit_callbacks
):
    published = make_published_case(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        figure = attach(published, curator2, jpeg(), stain="H&E", panel_label="1A")
    revision = figure.case
    assert revision.revision_of == published and revision.created_by == curator2
    assert not published.figures.exists()  # the public sees nothing yet
    # A second figure goes into the same open revision.
    second = attach(published, curator2, png(), stain="other")
    assert second.case == revision
    revision.refresh_from_db()
    submit_case(revision, by=curator2, expected_version=revision.version)
    approve_case(revision, reviewer)
    shown = list(published.figures.order_by("position"))
    assert [f.panel_label for f in shown] == ["1A", ""]
    assert shown[0].derivatives_ready  # the copy shares the files and their copies
    assert shown[0].sha256 == figure.sha256
    assert not Case.objects.filter(pk=revision.pk).exists()


def test_a_figure_without_a_licence_is_private_to_curators_and_reviewers(
    curator, reader, reviewer, figure_storage, client
):
    case = make_published_case(created_by=curator)
    FigureFactory(
        case=case,
        licence="NOASSERTION",
        created_by=curator,
    )
    FigureFactory(
        case=case,
        created_by=curator,
    )
    from django.contrib.auth.models import AnonymousUser

    assert Figure.objects.visible_to(AnonymousUser()).count() == 1
    assert Figure.objects.visible_to(reader).count() == 1
    assert Figure.objects.visible_to(curator).count() == 2
    assert Figure.objects.visible_to(reviewer).count() == 2


def test_a_curator_removes_a_figure_from_a_draft(curator, figure_storage):
    case = CaseFactory(created_by=curator)
    figure = attach(case, curator, png())
    remove_figure(figure, by=curator)
    assert not case.figures.exists()
    case.refresh_from_db()
    assert case.version == 3


@pytest.mark.parametrize(
    ("text", "value"), [("\u00d7200", 200), ("x40", 40), ("400x", 400), (" 100 ", 100), ("", None)]
)
def test_magnification_as_papers_write_it(text, value):
    assert parse_magnification(text) == value


@pytest.mark.parametrize("text", ["0", "big", "\u00d7", "200 µm"])
def test_a_magnification_that_is_not_one_is_refused(text):
    with pytest.raises(ValueError, match="not a magnification"):
        parse_magnification(text)


def test_a_stain_is_he_or_a_vocabulary_marker(db):
    assert parse_stain("H&E") == ("he", None)
    assert parse_stain("alk") == ("ihc", marker("ALK"))
    with pytest.raises(ValueError, match="neither H&E nor a marker"):
        parse_stain("Giemsa-ish")


def test_a_figure_without_a_licence_chosen_is_told_to_choose_one(curator, figure_storage):
    with pytest.raises(FigureRefused) as caught:
        attach(CaseFactory(created_by=curator), curator, png(), licence="")
    assert caught.value.errors["licence"].startswith("Choose the licence")


def test_an_approved_revision_keeps_the_address_of_the_figures_it_kept(
    curator, curator2, reviewer, figure_storage
):
    published = make_published_case(created_by=curator)
    kept = FigureFactory(
        case=published,
        caption="H&E",
        licence="NOASSERTION",
        created_by=curator,
    )
    gone = FigureFactory(
        case=published,
        caption="Blurry",
        created_by=curator,
    )
    revision = start_revision(published, curator2)
    revision.figures.filter(sha256=kept.sha256).update(caption="H&E, x100", licence="CC0-1.0")
    revision.figures.filter(sha256=gone.sha256).delete()
    added = attach(revision, curator2, png(), caption="ALK")
    revision.refresh_from_db()
    submit_case(revision, by=curator2, expected_version=revision.version)
    approve_case(revision, reviewer)
    rows = {f.sha256: f for f in published.figures.all()}
    assert set(rows) == {kept.sha256, added.sha256}
    assert rows[kept.sha256].pk == kept.pk  # the same address as before
    assert (rows[kept.sha256].caption, rows[kept.sha256].licence) == ("H&E, x100", "CC0-1.0")
    assert not Figure.objects.filter(pk=gone.pk).exists()
