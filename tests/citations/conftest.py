"""Fixtures of the citations tests."""

from tests.fake_pmc import fake_pmc  # noqa: F401 (a fixture, shared with tests/curation)
