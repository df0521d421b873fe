"""/releases/ lists the releases with their files' sizes and checksums; a case page says
which releases hold it, in which version (issue 17)."""

import hashlib

import pytest

from curation.actions.releases import make_release
from tests.curation.searchdata import build_registry
from tests.curation.test_make_release_command import release_dir  # noqa: F401
from tests.factories import make_published_case


@pytest.fixture
def registry(db):
    return build_registry()


def test_the_page_lists_each_release_with_sizes_and_checksums(client, registry, release_dir):  # noqa: F811
    release = make_release("2026-12")
    page = client.get("/releases/").content.decode()
    assert "Release 2026-12" in page
    assert "5 cases from 5 papers" in page
    for item in release.files:
        assert item["sha256"] in page
        assert f'data-bytes="{item["size"]}"' in page
        assert f"/releases/2026-12/{item['name']}" in page


def test_a_downloaded_file_is_the_file_its_checksum_names(client, registry, release_dir):  # noqa: F811
    release = make_release("2026-12")
    item = next(i for i in release.files if i["name"] == "cases.csv")
    response = client.get("/releases/2026-12/cases.csv")
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert hashlib.sha256(body).hexdigest() == item["sha256"]
    assert "rarederm-2026-12-cases.csv" in response["Content-Disposition"]
    assert "immutable" in response["Cache-Control"]


@pytest.mark.parametrize(
    "path", ["/releases/2026-12/secret.txt", "/releases/2026-11/cases.csv", "/releases/x/..%2F"]
)
def test_only_a_listed_file_of_a_listed_release_is_served(client, registry, release_dir, path):  # noqa: F811
    make_release("2026-12")
    assert client.get(path).status_code == 404


def test_no_release_yet_says_how_one_is_made(client, db):
    assert "No release yet" in client.get("/releases/").content.decode()


def test_a_case_page_names_the_releases_that_hold_it_and_the_version(
    client,
    registry,
    release_dir,  # noqa: F811
):
    make_release("2026-11")
    make_release("2026-12")
    newer = make_published_case(version=4)
    page = client.get(registry["scalp_imt"].get_absolute_url()).content.decode()
    assert "Release 2026-11</a>: version 3" in page
    assert "Release 2026-12</a>: version 3" in page
    assert "Not in a release yet" in client.get(newer.get_absolute_url()).content.decode()
