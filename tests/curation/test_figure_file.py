"""/figures/<id>/<kind>/: a figure's files, served with safe headers to those who may see them."""

import pytest
from django.urls import reverse

from curation.actions.figures import attach_figure
from curation.models import Figure
from tests.factories import CaseFactory, FigureFactory, make_published_case
from tests.figure_files import jpeg, png

pytestmark = pytest.mark.django_db


def _url(figure, kind):
    return reverse("curation:figure_file", args=[figure.pk, kind])


@pytest.fixture
def published_figure(curator, figure_storage, django_capture_on_commit_callbacks):
    """A CC BY figure on a published case, its copies made."""
    case = CaseFactory(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        figure = attach_figure(case, by=curator, data=png(), caption="H&E", licence="CC-BY-4.0")
    type(case).objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    return Figure.objects.get(pk=figure.pk)


def test_the_original_is_a_download_with_its_stored_type_and_nosniff(client, published_figure):
    response = client.get(_url(published_figure, "original"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"figure-{published_figure.pk}-original.png" in response["Content-Disposition"]
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("kind", "content_type", "magic"),
    [
        ("thumbnail", "image/jpeg", b"\xff\xd8"),
        ("screen", "image/jpeg", b"\xff\xd8"),
        ("webp", "image/webp", b"RIFF"),
    ],
)
def test_the_web_copies_are_shown_inline_with_their_type(
    client, published_figure, kind, content_type, magic
):
    response = client.get(_url(published_figure, kind))
    assert response["Content-Type"] == content_type
    assert response["Content-Disposition"].startswith("inline;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert b"".join(response.streaming_content).startswith(magic)


def test_an_unknown_kind_or_figure_is_404(client, published_figure):
    assert client.get(_url(published_figure, "exe")).status_code == 404
    assert client.get(reverse("curation:figure_file", args=[99999, "screen"])).status_code == 404


def test_a_figure_without_a_licence_is_404_for_the_public_and_shown_to_a_curator(
    client, curator2, published_figure
):
    Figure.objects.filter(pk=published_figure.pk).update(licence="NOASSERTION")
    assert client.get(_url(published_figure, "screen")).status_code == 404
    client.force_login(curator2)
    response = client.get(_url(published_figure, "screen"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_a_drafts_figure_is_404_for_everybody_but_its_curator(
    client, curator, curator2, figure_storage, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        figure = attach_figure(case, by=curator, data=jpeg(), caption="c", licence="CC0-1.0")
    assert client.get(_url(figure, "thumbnail")).status_code == 404
    client.force_login(curator2)
    assert client.get(_url(figure, "thumbnail")).status_code == 404
    client.force_login(curator)
    assert client.get(_url(figure, "thumbnail")).status_code == 200


def test_a_copy_not_made_yet_is_404(client, curator, figure_storage):
    case = make_published_case(created_by=curator)
    figure = FigureFactory(
        case=case,
        created_by=curator,
    )
    assert client.get(_url(figure, "screen")).status_code == 404
