"""Fixtures of the security tests."""

import pytest

from tests.figure_files import figure_storage  # noqa: F401 (a fixture)


@pytest.fixture(autouse=True)
def _figures_in_a_folder_of_the_tests_own(figure_storage):  # noqa: F811
    """The permission matrix's objects include figures' files: never in DATA_DIR."""
