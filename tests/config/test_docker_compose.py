"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): they are checked.

The processes they describe run for real in the production check
(tests/production/), from README's commands; tests/config/test_deploy_config.py
keeps those commands and these services in step.
"""

import re
import shlex

import pytest

from tests.conftest import ROOT
from tests.deployment import (
    COMPOSE,
    DOCKERFILE,
    SERVICES,
    interpolate,
    readme_table_variables,
    settings_read_by_app,
)

APP_SERVICES = ("migrate", "web", "worker", "beat")


def test_the_services_of_a_deployment_are_there():
    assert set(SERVICES) == {"postgres", "redis", "migrate", "web", "worker", "beat", "proxy"}


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_has_an_image_or_build_and_a_command(name):
    service = SERVICES[name]
    assert service.get("image") or service.get("build")
    if name in APP_SERVICES:
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


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_variable_given_to_the_app_is_a_setting_it_reads(name):
    environment = SERVICES[name]["environment"]
    unknown = set(environment) - settings_read_by_app()
    assert not unknown, f"{name} sets variables the app never reads: {sorted(unknown)}"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_documented_setting_reaches_the_app_containers(name):
    # SMTP could not be configured: only EMAIL_HOST and DEFAULT_FROM_EMAIL got through.
    missing = readme_table_variables() - set(SERVICES[name]["environment"])
    assert not missing, f"{name} does not pass {sorted(missing)}"


def test_the_smtp_settings_pass_through_from_the_operators_environment():
    environment = SERVICES["web"]["environment"]
    operator = {
        "EMAIL_HOST": "smtp.example.org",
        "EMAIL_PORT": "2525",
        "EMAIL_HOST_USER": "rarederm",
        "EMAIL_HOST_PASSWORD": "s3cret",
        "EMAIL_USE_TLS": "false",
        "EMAIL_TIMEOUT": "20",
    }
    for name, value in operator.items():
        assert interpolate(environment[name], operator) == value


def test_a_setting_left_unset_reaches_the_app_empty_which_means_its_default():
    environment = SERVICES["web"]["environment"]
    assert interpolate(environment["ENTREZ_BASE_URL"], {}) == ""
    assert interpolate(environment["LOG_LEVEL"], {}) == ""


def test_the_app_runs_in_production_mode_with_postgres_and_redis_behind_the_proxy():
    environment = SERVICES["web"]["environment"]
    assert environment["DEBUG"] == "false"
    assert interpolate(environment["DATABASE_URL"]).startswith("postgres://")
    assert environment["CELERY_BROKER_URL"].startswith("redis://")
    assert environment["SECURE_PROXY_SSL_HEADER"] == "true"


def _published(service: dict) -> list[tuple[str, str]]:
    """(host address, container port) of every published port, with the operator's defaults."""
    found = []
    for spec in service.get("ports", []):
        parts = interpolate(spec).split(":")
        assert len(parts) == 3, f"{spec}: publish with an explicit address"
        found.append((parts[0], parts[2]))
    return found


def test_gunicorn_is_never_published_only_the_proxy_is():
    # X-Forwarded-Proto is trusted, and gunicorn's sync workers must not meet slow clients.
    for name, service in SERVICES.items():
        if name != "proxy":
            assert not service.get("ports"), f"{name} publishes {service['ports']}"
    assert {port for _, port in _published(SERVICES["proxy"])} == {"443", "80"}


def test_ports_are_bound_to_127_0_0_1_unless_the_operator_opts_in():
    assert {address for address, _ in _published(SERVICES["proxy"])} == {"127.0.0.1"}
    opted_in = [
        interpolate(spec, {"RAREDERM_PUBLISH_ADDRESS": "0.0.0.0"}).split(":")[0]  # noqa: S104
        for spec in SERVICES["proxy"]["ports"]
    ]
    assert set(opted_in) == {"0.0.0.0"}  # noqa: S104


def test_migrations_run_once_in_a_one_shot_service_the_others_wait_for():
    migrate = SERVICES["migrate"]
    assert migrate["restart"] == "no"
    assert "manage.py migrate --no-input" in " ".join(migrate["command"])
    for name in ("web", "worker", "beat"):
        assert "migrate" not in " ".join(SERVICES[name]["command"])
        condition = SERVICES[name]["depends_on"]["migrate"]["condition"]
        assert condition == "service_completed_successfully", name


def _dockerfile_workdir() -> str:
    return re.findall(r"^WORKDIR\s+(\S+)", DOCKERFILE, flags=re.MULTILINE)[-1]


def test_static_files_are_served_from_the_image_not_from_a_volume():
    # A named volume is filled from the image once: after an upgrade the old
    # assets were served, and a new asset's hashed name gave HTTP 500.
    from django.conf import settings

    static_root = _dockerfile_workdir() + "/" + str(settings.STATIC_ROOT.relative_to(ROOT))
    assert "collectstatic" in DOCKERFILE
    for name in APP_SERVICES:
        for volume in SERVICES[name].get("volumes", []):
            mounted = volume.split(":")[1]
            assert not (static_root + "/").startswith(mounted.rstrip("/") + "/"), (
                f"{name} mounts {mounted} over the image's static files ({static_root})"
            )


def test_the_web_health_check_asks_healthz_on_gunicorns_port():
    test = SERVICES["web"]["healthcheck"]["test"]
    assert test[0] == "CMD"
    assert "http://127.0.0.1:8000/healthz" in " ".join(test)
    assert "--bind 0.0.0.0:8000" in " ".join(SERVICES["web"]["command"])


def test_there_is_one_beat():
    assert "deploy" not in SERVICES["beat"]
    assert "scale" not in SERVICES["beat"]


def test_the_worker_and_beat_run_celery_on_the_config_app():
    assert SERVICES["worker"]["command"][:4] == ["celery", "-A", "config", "worker"]
    assert SERVICES["beat"]["command"][:4] == ["celery", "-A", "config", "beat"]


def test_the_image_builds_psycopg2_from_source_against_the_system_libpq():
    assert "psycopg2-binary" not in DOCKERFILE
    assert "--no-binary psycopg2" in DOCKERFILE
    assert "libpq-dev" in DOCKERFILE
    runtime = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert "libpq5" in runtime
    assert "gcc" not in runtime  # the compiler stays in the build stage


def test_the_image_installs_the_production_requirements_make_install_production_does():
    makefile = (ROOT / "Makefile").read_text()
    pip = "-c requirements.lock --no-binary psycopg2 $$($(PYTHON) scripts/requirements.py)"
    assert pip in makefile
    image = "-c requirements.lock --no-binary psycopg2 \\\n      $(python scripts/requirements.py)"
    assert image in DOCKERFILE


def test_the_image_runs_gunicorn_with_the_compose_command():
    cmd = re.search(r"^CMD\s+(\[.*\])", DOCKERFILE, flags=re.MULTILINE).group(1)
    import json

    assert json.loads(cmd) == SERVICES["web"]["command"]
    assert shlex.join(SERVICES["web"]["command"]).startswith("gunicorn config.wsgi --config")
