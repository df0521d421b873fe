"""docker-compose.yml cannot be run here (no Docker engine), so it is checked instead."""

import re

import pytest
import yaml

from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SOURCE = (ROOT / "config" / "settings.py").read_text()
READ_BY_APP = set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', SETTINGS_SOURCE))


def test_the_five_services_of_a_deployment_are_there():
    assert set(SERVICES) == {"postgres", "redis", "web", "worker", "beat"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_an_image_or_build_and_a_command(name):
    service = SERVICES[name]
    assert service.get("image") or service.get("build")
    if name in ("web", "worker", "beat"):
        assert service.get("command"), f"{name} has no command"


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_dependency_names_an_existing_service(name):
    for dependency in SERVICES[name].get("depends_on", {}):
        assert dependency in SERVICES, f"{name} depends on unknown {dependency}"


def test_the_database_and_broker_have_health_checks_and_the_database_a_volume():
    assert "healthcheck" in SERVICES["postgres"]
    assert "healthcheck" in SERVICES["redis"]
    assert any("/var/lib/postgresql/data" in v for v in SERVICES["postgres"]["volumes"])
    assert "pgdata" in COMPOSE["volumes"]


@pytest.mark.parametrize("name", ["web", "worker", "beat"])
def test_every_variable_given_to_the_app_is_a_setting_it_reads(name):
    environment = SERVICES[name]["environment"]
    unknown = set(environment) - READ_BY_APP
    assert not unknown, f"{name} sets variables the app never reads: {sorted(unknown)}"


def test_the_app_runs_in_production_mode_with_postgres_and_redis():
    environment = SERVICES["web"]["environment"]
    assert environment["DEBUG"] == "false"
    assert environment["DATABASE_URL"].startswith("postgres://")
    assert environment["CELERY_BROKER_URL"].startswith("redis://")


def test_the_worker_and_beat_run_celery_on_the_config_app():
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]
