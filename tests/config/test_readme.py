"""README is the user's manual: it must stay true to the code."""

import re

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
SETTINGS = (ROOT / "config" / "settings.py").read_text()
SETTINGS_TABLE = README.split("## Settings", 1)[1].split("\n## ", 1)[0]


@pytest.mark.parametrize("name", sorted(set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', SETTINGS))))
def test_every_setting_the_app_reads_is_in_the_readme_table(name):
    assert f"`{name}`" in SETTINGS_TABLE, f"{name} is read by config/settings.py"


def test_the_readme_shows_the_two_commands():
    assert "make run" in README
    assert "make test" in README


@pytest.mark.parametrize("image", re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README))
def test_every_picture_in_the_readme_exists(image):
    assert (ROOT / image).is_file()


def test_every_make_target_in_the_readme_exists():
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, flags=re.MULTILINE))
    for target in set(re.findall(r"`make ([a-z]+)`", README)):
        assert target in targets, f"README mentions make {target}"
