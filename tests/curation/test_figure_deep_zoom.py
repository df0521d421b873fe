"""A large figure's deep zoom: the task's tile pyramid, its .dzi and tiles, the viewer page."""

import io

import pytest
from django.urls import reverse
from PIL import Image

from curation.actions.figures import attach_figure
from curation.models import Case, Figure
from tests.factories import CaseFactory
from tests.figure_files import jpeg, stored_files

pytestmark = pytest.mark.django_db


def _attach(case, curator, size, callbacks, licence="CC-BY-4.0"):
    with callbacks(execute=True):
        figure = attach_figure(
            case, by=curator, data=jpeg(size=size), caption="H&E", licence=licence
        )
    return Figure.objects.get(pk=figure.pk)


@pytest.fixture
def large(curator, figure_storage, django_capture_on_commit_callbacks):
    case = CaseFactory(created_by=curator)
    figure = _attach(case, curator, (3000, 1000), django_capture_on_commit_callbacks)
    Case.objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    return figure


def test_a_large_figure_gets_a_tile_pyramid(large, figure_storage):
    assert large.deep_zoom.name.endswith("/zoom.dzi")
    tiles = [name for name in stored_files(figure_storage) if "/zoom_files/" in name]
    # 3000 x 1000: levels 0..12; the full-size level has 12 x 4 tiles.
    assert sum("/zoom_files/12/" in name for name in tiles) == 12 * 4
    assert any("/zoom_files/0/0_0.jpg" in name for name in tiles)


def test_a_small_figure_has_none(
    curator, figure_storage, django_capture_on_commit_callbacks, client
):
    figure = _attach(
        CaseFactory(created_by=curator), curator, (800, 600), django_capture_on_commit_callbacks
    )
    assert not figure.deep_zoom
    client.force_login(curator)
    assert client.get(reverse("curation:figure_zoom", args=[figure.pk])).status_code == 404


def test_the_dzi_and_a_tile_are_served_with_their_types(client, large):
    dzi = client.get(reverse("curation:figure_dzi", args=[large.pk]))
    assert dzi["Content-Type"] == "application/xml"
    assert dzi["X-Content-Type-Options"] == "nosniff"
    assert b'<Size Width="3000" Height="1000"/>' in b"".join(dzi.streaming_content)
    tile = client.get(reverse("curation:figure_tile", args=[large.pk, 12, 11, 3]))
    assert tile["Content-Type"] == "image/jpeg"
    # The last column and row: 3000 - 11 x 254 + 1 wide, 1000 - 3 x 254 + 1 high.
    assert Image.open(io.BytesIO(b"".join(tile.streaming_content))).size == (207, 239)
    assert (
        client.get(reverse("curation:figure_tile", args=[large.pk, 12, 12, 0])).status_code == 404
    )


def test_the_viewer_page_points_openseadragon_at_the_dzi(client, large):
    page = client.get(reverse("curation:figure_zoom", args=[large.pk])).content.decode()
    assert 'data-dzi="' + reverse("curation:figure_dzi", args=[large.pk]) + '"' in page
    assert "vendor/openseadragon.min.js" in page
    case_page = client.get(reverse("curation:case_detail", args=[large.case_id])).content.decode()
    assert reverse("curation:figure_zoom", args=[large.pk]) in case_page


def test_an_unlicensed_figures_tiles_are_404_for_the_public(client, large, curator2):
    Figure.objects.filter(pk=large.pk).update(licence="NOASSERTION")
    tile = reverse("curation:figure_tile", args=[large.pk, 0, 0, 0])
    assert client.get(tile).status_code == 404
    client.force_login(curator2)
    assert client.get(tile).status_code == 200


def test_the_csp_allows_openseadragons_own_style_by_its_hash_and_nothing_else(client, large):
    import base64
    import hashlib

    from curation.views.figures import OPENSEADRAGON_STYLE, OPENSEADRAGON_STYLE_HASH
    from tests.conftest import ROOT

    vendored = (ROOT / "static" / "vendor" / "openseadragon.min.js").read_text()
    assert f'textContent="{OPENSEADRAGON_STYLE}"' in vendored, "OpenSeadragon's style changed"
    digest = base64.b64encode(hashlib.sha256(OPENSEADRAGON_STYLE.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == OPENSEADRAGON_STYLE_HASH
    policy = client.get(reverse("curation:figure_zoom", args=[large.pk]))[
        "Content-Security-Policy"
    ]
    assert f"style-src 'self' {OPENSEADRAGON_STYLE_HASH}" in policy
    assert "unsafe-inline" not in policy
    other = client.get(reverse("curation:case_detail", args=[large.case_id]))
    assert OPENSEADRAGON_STYLE_HASH not in other["Content-Security-Policy"]
