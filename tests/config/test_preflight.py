"""manage.py preflight: every missing or unsafe production setting at once, with what to set."""

import secrets

from tests.conftest import run_python

# Every variable preflight looks at; each test starts from none of them.
_CLEARED = (
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "SITE_URL",
    "DATABASE_URL",
    "DATABASE_REPLICA_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "SECURE_PROXY_SSL_HEADER",
    "FORWARDED_FOR_PROXIES",
    "SECURE_SSL_REDIRECT",
    "ENTREZ_EMAIL",
    "EMAIL_HOST",
    "EMAIL_BACKEND",
    "DEFAULT_FROM_EMAIL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def preflight(tmp_path, **env):
    return run_python(["manage.py", "preflight"], drop=_CLEARED, DATA_DIR=tmp_path, **env)


def test_a_bare_environment_gets_every_production_setting_listed_at_once(tmp_path):
    result = preflight(tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for expected in (
        "DEBUG: on (the default). Set DEBUG=false",
        "SECRET_KEY: not set. Set SECRET_KEY to 50+ random characters",
        "ALLOWED_HOSTS: empty. Set ALLOWED_HOSTS",
        "SITE_URL: not set. Set SITE_URL to the public address",
        "DATABASE_URL: SQLite (the default). Set DATABASE_URL=postgres://",
        "CELERY_BROKER_URL: not set",
        "SECURE_PROXY_SSL_HEADER: off",
        "ENTREZ_EMAIL: 'rarederm@example.org' is the example address",
        "EMAIL_HOST: not set: review e-mails are printed to the log",
        "DEFAULT_FROM_EMAIL:",
        "migrations are not applied",
    ):
        assert expected in result.stderr, result.stderr


def test_values_it_cannot_read_and_services_that_do_not_answer_are_in_the_same_list(tmp_path):
    result = preflight(
        tmp_path,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="rarederm.example.org",
        SITE_URL="http://rarederm.example.org",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere",
        CELERY_BROKER_URL="redis://127.0.0.1:1/0",
        SECURE_PROXY_SSL_HEADER="ture",
        EMAIL_PORT="25x",
    )
    assert result.returncode == 1
    for expected in (
        "SECURE_PROXY_SSL_HEADER='ture' is not a boolean",
        "EMAIL_PORT='25x' is not a whole number.",
        "SITE_URL: 'http://rarederm.example.org' is not an https:// address",
        "DATABASE_URL: cannot connect to 127.0.0.1/nowhere",
        "CELERY_BROKER_URL: Redis does not answer",
    ):
        assert expected in result.stderr, result.stderr
    assert "SECRET_KEY" not in result.stderr
    assert "ALLOWED_HOSTS: empty" not in result.stderr


def test_a_site_url_on_a_host_that_is_not_allowed_is_named(tmp_path):
    result = preflight(
        tmp_path,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="rarederm.example.org",
        SITE_URL="https://www.rarederm.example.org",
    )
    assert "SITE_URL: its host 'www.rarederm.example.org' is not in ALLOWED_HOSTS" in result.stderr


def test_behind_a_proxy_the_client_address_header_must_be_trusted(tmp_path):
    behind = preflight(tmp_path, SECURE_PROXY_SSL_HEADER="true")
    assert "FORWARDED_FOR_PROXIES: 0 behind a proxy" in behind.stderr, behind.stderr
    trusted = preflight(tmp_path, SECURE_PROXY_SSL_HEADER="true", FORWARDED_FOR_PROXIES="1")
    assert "FORWARDED_FOR_PROXIES" not in trusted.stderr


def test_static_files_not_collected_are_reported_with_the_command_that_collects_them(
    settings, tmp_path
):
    from config.management.commands.preflight import static_problems

    settings.STATIC_ROOT = tmp_path
    (problem,) = static_problems()
    assert problem.startswith("STATIC_ROOT: no collected static files")
    assert "Run: manage.py collectstatic --no-input" in problem
    (tmp_path / "staticfiles.json").write_text("{}")
    assert static_problems() == []
