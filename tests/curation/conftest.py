"""Fixtures of the curation tests."""

import pytest

from tests.fake_pmc import fake_pmc  # noqa: F401 (a fixture, shared with tests/citations)


@pytest.fixture
def figure_storage(settings, tmp_path):
    """The `figures` storage in a folder of the test's own; its path."""
    folder = tmp_path / "figures"
    settings.STORAGES = {
        **settings.STORAGES,
        "figures": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": folder, "base_url": None},
        },
    }
    return folder
