"""Fixtures of the curation tests."""

from tests.fake_pmc import fake_pmc  # noqa: F401 (fixtures shared with other folders)
from tests.figure_files import figure_storage  # noqa: F401
