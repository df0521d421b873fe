"""Settings are read strictly: a value the app does not understand stops it with a clear error."""

import secrets

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_int, env_list, env_rate, env_str
from tests.conftest import run_python


def run_manage(*args, **env):
    return run_python(["manage.py", *args], drop=("DEBUG", "SECRET_KEY"), **env)


def test_an_unrecognised_boolean_is_refused_with_its_name_and_value(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ImproperlyConfigured, match=r"DEBUG='maybe' is not a boolean"):
        env_bool("DEBUG", True)


@pytest.mark.parametrize(("raw", "expected"), [("False", False), ("off", False), ("YES", True)])
def test_false_spelled_as_text_is_false(monkeypatch, raw, expected):
    monkeypatch.setenv("SOME_FLAG", raw)
    assert env_bool("SOME_FLAG", not expected) is expected


def test_an_empty_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "  ")
    assert env_int("SOME_NUMBER", 7) == 7


def test_a_number_with_a_typo_is_refused(monkeypatch):
    monkeypatch.setenv("SOME_NUMBER", "6O")
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        env_int("SOME_NUMBER", 7)


@pytest.mark.parametrize("value", ["120", "120/fortnight", "ten/minute", "120/minute; x"])
def test_a_rate_that_is_not_number_per_unit_is_refused(monkeypatch, value):
    monkeypatch.setenv("SOME_RATE", value)
    with pytest.raises(ImproperlyConfigured, match=r"SOME_RATE=.* is not like 120/minute"):
        env_rate("SOME_RATE", "60/minute")


def test_a_rate_is_read_as_given(monkeypatch):
    monkeypatch.setenv("SOME_RATE", " 30/hour ")
    assert env_rate("SOME_RATE", "60/minute") == "30/hour"


def test_lists_are_comma_separated_and_trimmed(monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", " a.example , b.example,, ")
    assert env_list("ALLOWED_HOSTS", []) == ["a.example", "b.example"]


def test_the_app_refuses_to_start_with_a_bad_boolean():
    result = run_manage("check", DEBUG="nope")
    assert result.returncode != 0
    assert "DEBUG='nope' is not a boolean" in result.stderr


def test_production_refuses_to_start_without_a_real_secret_key():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="rarederm.example")
    assert result.returncode != 0
    assert "SECRET_KEY: not set. Set SECRET_KEY to 50+ random characters" in result.stderr


def test_an_empty_text_variable_means_its_default(monkeypatch):
    # docker compose passes `${NAME:-}` for every setting an operator left unset.
    monkeypatch.setenv("ENTREZ_BASE_URL", "")
    assert env_str("ENTREZ_BASE_URL", "https://eutils.example/") == "https://eutils.example/"


def test_every_unusable_setting_is_reported_at_once_without_a_traceback():
    result = run_manage("check", DEBUG="false", LOG_LEVEL="loud", EMAIL_PORT="25x")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for line in (
        "EMAIL_PORT='25x' is not a whole number.",
        "LOG_LEVEL='loud' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL.",
        "SECRET_KEY: not set.",
        "ALLOWED_HOSTS: empty. Set ALLOWED_HOSTS to the host names the site answers to",
    ):
        assert line in result.stderr, result.stderr
    assert "4 settings need attention" in result.stderr


def test_a_bad_log_level_names_the_variable():
    result = run_manage("check", LOG_LEVEL="verbose")
    assert result.returncode != 0
    assert "LOG_LEVEL='verbose' is not one of" in result.stderr


def test_a_log_level_is_read_without_regard_to_case():
    result = run_manage("check", LOG_LEVEL="warning")
    assert result.returncode == 0, result.stderr


def test_production_settings_pass_the_deployment_checklist_without_warnings():
    result = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="rarederm.example",
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_ncbi_tries_that_could_outlast_a_task_are_refused_at_start():
    # Five tries cut off at 150 s each would outlive a 600 s task: its PMIDs
    # would be left without a recorded error.
    result = run_manage("check", ENTREZ_DEADLINE="150", ENTREZ_MAX_TRIES="5")
    assert result.returncode != 0
    assert "ENTREZ_MAX_TRIES (5) x ENTREZ_DEADLINE (150 s)" in result.stderr
    assert run_manage("check", ENTREZ_DEADLINE="100", ENTREZ_MAX_TRIES="5").returncode == 0
