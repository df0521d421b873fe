"""README is the user's manual: it must stay true to the code."""

import re

import pytest

from tests.conftest import ROOT
from tests.deployment import readme_section, settings_read_by_app

README = (ROOT / "README.md").read_text()
SETTINGS_TABLE = readme_section("Settings")


@pytest.mark.parametrize("name", sorted(settings_read_by_app()))
def test_every_setting_the_app_reads_is_in_the_readme_table(name):
    assert f"`{name}`" in SETTINGS_TABLE, f"{name} is read by config/settings.py or gunicorn.py"


def test_the_readme_shows_the_two_commands():
    assert "make run" in README
    assert "make test" in README


@pytest.mark.parametrize("image", re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README))
def test_every_picture_in_the_readme_exists(image):
    assert (ROOT / image).is_file()


def test_every_make_target_in_the_readme_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))
    for target in set(re.findall(r"`make ([a-z-]+)", README)):
        assert target in targets, f"README mentions make {target}"


def test_the_readme_lists_every_export_column_with_its_meaning():
    from curation.search.exports import CASE_COLUMNS

    table = README.split("| column | meaning |\n|---|---|\n", 1)[1].split("\n\n", 1)[0]
    documented = re.findall(r"^\| `([a-z0-9_]+)` \| (.+) \|$", table, re.MULTILINE)
    assert documented == CASE_COLUMNS
