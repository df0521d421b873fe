"""The proxy, gunicorn, compose and README's commands agree with each other.

gunicorn is safe only behind the buffering proxy, and only if their timeouts
fit together; README's commands (which the production check runs) and the
compose services must start the same processes the same way.
"""

import runpy
import shlex

import pytest

from config import production
from tests.conftest import ROOT
from tests.deployment import (
    CHECKED_COMMANDS,
    SERVICES,
    exported_names,
    nginx_directive,
    readme_commands,
    seconds,
    template_variables,
)

GUNICORN = runpy.run_path(str(ROOT / "config" / "gunicorn.py"))
COMMANDS = readme_commands(CHECKED_COMMANDS)


def test_nginx_waits_for_an_answer_longer_than_gunicorn_lets_a_worker_work():
    # Else nginx gives up (504) on requests gunicorn still works on.
    (read_timeout,) = nginx_directive("proxy_read_timeout")
    (send_timeout,) = nginx_directive("proxy_send_timeout")
    assert seconds(read_timeout) > GUNICORN["timeout"]
    assert seconds(send_timeout) > GUNICORN["timeout"]


def test_nginx_buffers_whole_requests_and_answers_and_cuts_slow_clients_off():
    assert nginx_directive("proxy_request_buffering") == ["on"]
    assert nginx_directive("proxy_buffering") == ["on"]
    for name in ("client_header_timeout", "client_body_timeout"):
        (value,) = nginx_directive(name)
        assert seconds(value) <= 30, name


def test_gunicorn_uses_sync_workers_that_share_a_port_and_leave_the_scheme_to_django():
    assert GUNICORN["worker_class"] == "sync"
    assert GUNICORN["reuse_port"] is True
    assert GUNICORN["secure_scheme_headers"] == {}


def test_a_stopping_web_container_lets_gunicorn_finish_its_requests():
    grace = seconds(SERVICES["web"]["stop_grace_period"])
    assert grace > GUNICORN["graceful_timeout"]


def test_the_proxy_sets_x_forwarded_proto_itself_whatever_the_client_sent():
    assert "X-Forwarded-Proto $scheme" in nginx_directive("proxy_set_header")


def test_the_proxy_service_gives_the_template_every_variable_it_uses():
    assert set(SERVICES["proxy"]["environment"]) == template_variables()
    mounts = " ".join(SERVICES["proxy"]["volumes"])
    assert "./deploy/nginx.conf.template:/etc/nginx/templates/" in mounts


def test_the_readme_renders_every_variable_of_the_template():
    (envsubst,) = [c for c in COMMANDS if " envsubst " in f" {c} "]
    listed = shlex.split(envsubst.split("envsubst", 1)[1])[0]
    assert {word.lstrip("$") for word in listed.split()} == template_variables()


def _normalised(command: str) -> str:
    return (
        command.replace(".venv-prod/bin/", "")
        .replace("--bind 127.0.0.1:8000", "--bind ADDRESS")
        .replace("--bind 0.0.0.0:8000", "--bind ADDRESS")
    )


@pytest.mark.parametrize("service", ["web", "worker", "beat", "migrate"])
def test_the_readme_starts_each_compose_service_with_the_same_command(service):
    command = SERVICES[service]["command"]
    if command[:2] == ["sh", "-c"]:
        wanted = [part.strip() for part in command[2].split("&&")]
    else:
        wanted = [shlex.join(command)]
    readme = [_normalised(c) for c in COMMANDS]
    for part in wanted:
        assert _normalised(part) in readme, f"README does not run {part!r}"


def test_the_readme_exports_every_variable_preflight_asks_for():
    everything_wrong = production.problems(
        debug=True,
        secret_key="",
        development_key="",
        allowed_hosts=[],
        site_url="",
        database_engine="sqlite3",
        broker_url="",
        proxy_ssl_header=False,
        ssl_redirect=True,
        entrez_email=production.EXAMPLE_ENTREZ_EMAIL,
        email_backend="django.core.mail.backends.console.EmailBackend",
        default_from_email=production.EXAMPLE_FROM_EMAIL,
    )
    asked = {problem.setting for problem in everything_wrong}
    assert asked <= set(exported_names(COMMANDS))
