"""Shared fixtures: the named users of every role, service detection, the
network guard, a real Celery worker and a real browser.

The suite runs anywhere: with no services it uses SQLite and skips what needs
PostgreSQL, Redis or Chromium, printing why. CI sets REQUIRE_SERVICES=1, which
turns every such skip into a failure, so that "skipped" can never hide there.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PASSWORD = "correct horse battery staple 42"  # the named users' password, tests only


def require_service(reason: str):
    """Skip (locally) or fail (CI) a test whose service is missing."""
    if os.environ.get("REQUIRE_SERVICES") == "1":
        pytest.fail(f"REQUIRE_SERVICES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


# -- Redis: a key prefix of this session's own ---------------------------------


def pytest_configure(config):
    """Give this session's Redis keys a prefix of their own, before anything uses Redis.

    The broker URL may name the Redis database a developer's own server and
    worker use: the suite writes only keys under this prefix (cache, rate
    limiter, Celery's queues; worker processes inherit it through the
    environment) and removes only those (tests/config/test_redis_isolation.py).
    Settings were loaded already (pytest-django), but nothing has connected yet.
    """
    import uuid

    prefix = os.environ.get("REDIS_KEY_PREFIX", "")
    if not prefix.startswith("rarederm-test-"):
        prefix = f"rarederm-test-{uuid.uuid4().hex[:12]}"
    os.environ["REDIS_KEY_PREFIX"] = prefix
    settings.REDIS_KEY_PREFIX = prefix
    if "KEY_PREFIX" in settings.CACHES["default"]:
        settings.CACHES["default"]["KEY_PREFIX"] = prefix
    options = dict(celery_app.conf.broker_transport_options or {})
    options["global_keyprefix"] = f"{prefix}:"
    celery_app.conf.broker_transport_options = options


def forget_own_redis_keys() -> None:
    """Delete every key of this session's prefix (and nothing else) from the broker's Redis."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return
    import redis

    try:
        client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_connect_timeout=1)
        keys = list(client.scan_iter(match=f"{settings.REDIS_KEY_PREFIX}:*", count=1000))
        for start in range(0, len(keys), 1000):
            client.delete(*keys[start : start + 1000])
    except redis.RedisError:
        pass  # no Redis, nothing of ours in it


def pytest_unconfigure(config):
    forget_own_redis_keys()


# -- the network guard --------------------------------------------------------

_LOCAL_HOSTS = {"127.0.0.1", "::1", "localhost", "0.0.0.0", ""}  # noqa: S104
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo
_violations: list[str] = []


def _is_local(host) -> bool:
    host = str(host)
    return host in _LOCAL_HOSTS or host.startswith("127.") or host == "::ffff:127.0.0.1"


class OutgoingConnectionBlocked(OSError):
    pass


def _check(address):
    if isinstance(address, tuple) and not _is_local(address[0]):
        _violations.append(repr(address))
        raise OutgoingConnectionBlocked(f"tests may not connect to {address!r}: offline suite")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _check(address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None and not _is_local(host if isinstance(host, str) else host.decode()):
        _violations.append(f"DNS lookup of {host!r}")
        raise OutgoingConnectionBlocked(f"tests may not resolve {host!r}: offline suite")
    return _real_getaddrinfo(host, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_outgoing_network(monkeypatch, request):
    """Any connection to a host other than this machine fails the test."""
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", _guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", _guarded_getaddrinfo)
    _violations.clear()
    yield
    if _violations and "allow_blocked_network" not in request.keywords:
        found = ", ".join(_violations)
        _violations.clear()
        pytest.fail(f"the test tried to reach the network: {found}", pytrace=False)


# -- speed and isolation ------------------------------------------------------


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    from django.contrib.auth.hashers import get_hashers

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()


@pytest.fixture(autouse=True)
def _no_chase_on_publish(settings):
    """Publishing a case does not ask NCBI for its paper's links, nor a new candidate for
    its record, unless a test says so."""
    settings.CHASE_ON_PUBLISH = False
    settings.FETCH_CANDIDATE_RECORDS = False


@pytest.fixture(autouse=True)
def _tasks_inline_by_default():
    """Tasks run inline unless a test asks for the real worker (`celery_worker`)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = not settings.CELERY_BROKER_URL


@pytest.fixture(autouse=True)
def _refresh_inline(settings):
    """A test's rows are in its own open transaction, which a refreshing thread (with a
    connection of its own) cannot see: recompute in the request. The tests of the
    background refresh turn it back on (tests/curation/test_facet_index.py). Pages are
    not kept per generation either (below)."""
    settings.SEARCH_REFRESH_IN_BACKGROUND = False
    # Tests read the rendered page's context, which a kept page has not (the tests of
    # the page cache turn it on: tests/curation/test_page_cache.py).
    settings.PAGE_CACHE = False


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    from citations.counts import GENERATION_KEY as CITATIONS_GENERATION
    from config import generations, pagecache
    from curation.search import bitmaps
    from curation.search.cache import forget_all

    # Cached search counts of an earlier, rolled-back test must not show (Redis
    # keeps them across tests; a rollback bumps no generation), nor the facet index
    # or the kept pages this process holds, nor the citation count.
    forget_all()
    bitmaps.forget_held()
    generations.bump_now(CITATIONS_GENERATION)
    pagecache.local.clear()
    yield
    if "locmem" in settings.CACHES["default"]["BACKEND"].lower():
        cache.clear()


# -- data made by migrations survives transactional tests --------------------


def _flushes_database(item) -> bool:
    marker = item.get_closest_marker("django_db")
    transactional_marker = marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    )
    names = set(getattr(item, "fixturenames", ()))
    return bool(transactional_marker or names & {"transactional_db", "live_server"})


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put back what data migrations made, after a test that flushed the database.

    A transactional test (live server, real worker) ends with a flush, which
    empties every table; content types and permissions come back by
    themselves (post_migrate), the role groups and the vocabularies do not.
    Doing it here, once, keeps every other test free of workarounds (and of
    serialized_rollback, which clashes with the flushes of other tests).
    """
    yield
    # After the session's last test the test database is already destroyed
    # (pytest-django's session fixture ends in that test's teardown).
    if nextitem is None or not _flushes_database(item):
        return
    from pytest_django.plugin import blocking_manager_key

    from accounts.roles import ensure_role_groups
    from curation.vocabularies import ensure_vocabularies
    from screening.lists import ensure_lists

    with item.config.stash[blocking_manager_key].unblock():
        ensure_role_groups()
        ensure_vocabularies()
        ensure_lists()


# -- the named users ----------------------------------------------------------


def _make_user(django_user_model, username, role=None, **extra):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@example.org", password=PASSWORD, **extra
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def reader(db, django_user_model):
    """A logged-in pathologist with no role: reads like the public."""
    return _make_user(django_user_model, "rita_reader")


@pytest.fixture
def curator(db, django_user_model):
    return _make_user(django_user_model, "carla_curator", "curator")


@pytest.fixture
def curator2(db, django_user_model):
    return _make_user(django_user_model, "colin_curator", "curator")


@pytest.fixture
def reviewer(db, django_user_model):
    return _make_user(django_user_model, "rosa_reviewer", "reviewer")


@pytest.fixture
def reviewer2(db, django_user_model):
    return _make_user(django_user_model, "remy_reviewer", "reviewer")


@pytest.fixture
def admin(db, django_user_model):
    return _make_user(django_user_model, "ada_admin", is_staff=True, is_superuser=True)


# -- services -----------------------------------------------------------------


@pytest.fixture
def postgres(db):
    """The test needs PostgreSQL (full-text search, row locks, constraints)."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        require_service("needs PostgreSQL: set DATABASE_URL=postgres://...")


def _redis_url() -> str:
    return settings.REDIS_URL


@pytest.fixture
def redis_url():
    """A reachable Redis URL, or a skip that says why there is none."""
    url = _redis_url()
    if not url:
        require_service("needs Redis: set CELERY_BROKER_URL=redis://...")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        require_service(f"needs Redis at {url}: {exc}")
    return url


def _database_url_for_subprocess() -> str:
    """The URL of the database this test session uses (test_ prefixed)."""
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        require_service("a worker process needs PostgreSQL: set DATABASE_URL=postgres://...")
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return (
        f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"
    )


def subprocess_env(**extra) -> dict[str, str]:
    """Environment for a child process (worker, gunicorn) sharing this test's services."""
    env = dict(os.environ)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(
        DATABASE_URL=_database_url_for_subprocess(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        DATA_DIR=str(settings.DATA_DIR),
        PYTHONPATH=str(ROOT),
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run_python(
    args: list[str], *, drop: tuple[str, ...] = (), stdin: str | None = None, **env
) -> subprocess.CompletedProcess:
    """Run this venv's Python in the project folder, with `env` over this process's
    environment less `drop` (settings a test must not inherit)."""
    full_env = {
        k: v for k, v in os.environ.items() if k not in (*drop, "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    full_env.update({k: str(v) for k, v in env.items()})
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


class WorkerProcess:
    def __init__(self, proc: subprocess.Popen, log: Path):
        self.proc = proc
        self.log = log

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def celery_worker(transactional_db, redis_url, tmp_path):
    """A real `celery -A config worker` process on the real broker and database.

    Tests using it see only committed data, hence transactional_db. Extra
    environment for the worker (ENTREZ_BASE_URL...) goes through the
    `worker_env` marker: @pytest.mark.worker_env(ENTREZ_BASE_URL=...).
    """
    yield from _start_worker(redis_url, tmp_path, {})


def _start_worker(redis_url, tmp_path, extra_env, concurrency=1, name="w1"):
    # Messages an earlier test left in this session's queues must not reach the
    # worker; a second worker of the same test keeps the first one's.
    if not any(tmp_path.glob("celery-*.log")):
        forget_own_redis_keys()
    log = tmp_path / f"celery-{name}.log"
    cmd = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "config",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        f"--hostname={name}@%h",
        "--without-gossip",
        "--without-mingle",
        # Probe tasks that only the infrastructure tests send.
        "--include=tests.worker_tasks",
    ]
    handle = log.open("w")
    proc = _spawn(cmd, handle, extra_env)
    celery_app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"celery worker exited early:\n{log.read_text()}")
            if "ready." in log.read_text(errors="replace"):
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"celery worker did not start in 60 s:\n{log.read_text()}")
        yield WorkerProcess(proc, log)
    finally:
        celery_app.conf.task_always_eager = True
        _stop_process_group(proc)
        handle.close()


def _spawn(cmd: list[str], output, env: dict) -> subprocess.Popen:
    """Start a Celery process on this test's services, its output into a file.

    In a process group of its own (main process and pool children), so that a
    test can kill the whole worker at once, as an OOM killer or a lost host
    would: os.killpg(worker.proc.pid, signal.SIGKILL).
    """
    return subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=subprocess_env(**env),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop_process_group(proc: subprocess.Popen) -> None:
    """Stop a process started in a session of its own, and whatever it started."""
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # Pool children left behind by a main process that died first.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def start_worker(transactional_db, redis_url, tmp_path):
    """Start real worker processes with extra environment: start_worker(ENV=...)."""
    gens = []

    def start(name="w1", concurrency=1, **env):
        gen = _start_worker(redis_url, tmp_path, env, concurrency=concurrency, name=name)
        worker = next(gen)
        gens.append(gen)
        return worker

    yield start
    for gen in reversed(gens):
        with contextlib.suppress(StopIteration):
            next(gen)


@pytest.fixture
def start_beat(transactional_db, redis_url, tmp_path):
    """Start a real `celery -A config beat` process: start_beat(ENV=...) -> WorkerProcess.

    It sends the periodic tasks of settings.CELERY_BEAT_SCHEDULE on their own
    schedule, as in production; its schedule file lives in the test's folder.
    """
    started = []

    def start(**env):
        log = tmp_path / "beat.log"
        handle = log.open("w")
        cmd = [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "config",
            "beat",
            "--loglevel=INFO",
            f"--schedule={tmp_path / 'celerybeat-schedule'}",
        ]
        proc = _spawn(cmd, handle, env)
        started.append((proc, handle))
        beat = WorkerProcess(proc, log)
        deadline = time.monotonic() + 60
        while "beat: Starting" not in beat.output():
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"celery beat did not start:\n{beat.output()}")
            time.sleep(0.2)
        return beat

    yield start
    for proc, handle in reversed(started):
        _stop_process_group(proc)
        handle.close()


# -- the browser --------------------------------------------------------------


@pytest.fixture(scope="session")
def _playwright_browser():
    if not Path(CHROMIUM).exists():
        require_service(f"needs Debian's Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread for the rest of
    # the session; Django then refuses ORM calls from it unless told this is
    # on purpose. It is: tests drive the browser and check the database in
    # turn, never at once.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(_playwright_browser, live_server):
    """A fresh browser page (own cookies) for a test using the live server."""
    context = _playwright_browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def login(page, live_server, user):
    """Log a named user in through the real login form."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()


# -- NCBI: the fake E-utilities server -----------------------------------------


@pytest.fixture
def fake_eutils(settings):
    """A real HTTP server on 127.0.0.1 serving recorded NCBI answers (tests/fake_eutils.py).

    Points settings.ENTREZ_BASE_URL at it, with short timeouts and backoff so
    that fault tests stay fast. For a worker process pass `fake_eutils.worker_env`
    to `start_worker(**fake_eutils.worker_env)`.
    """
    from tests.fake_eutils import FakeEutils

    server = FakeEutils().start()
    env = {
        "ENTREZ_BASE_URL": server.url,
        "ENTREZ_TIMEOUT": 1.0,
        "ENTREZ_BACKOFF": 0.05,
        "ENTREZ_MAX_TRIES": 3,
        "ENTREZ_RATE_LIMIT": 50.0,
    }
    for name, value in env.items():
        setattr(settings, name, value)
    server.stall_seconds = 3.0
    server.worker_env = {name: str(value) for name, value in env.items()}
    try:
        yield server
    finally:
        server.stop()


# -- e-mail: a real SMTP server -------------------------------------------------


@pytest.fixture
def smtp_sink(settings):
    """A real SMTP server on 127.0.0.1 (tests/smtp_sink.py) that this process sends to.

    For a worker process pass `smtp_sink.env` to `start_worker(**smtp_sink.env)`.
    """
    from tests.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    for name, value in sink.env.items():
        setattr(settings, name, int(value) if name in {"EMAIL_PORT", "EMAIL_TIMEOUT"} else value)
    settings.EMAIL_USE_TLS = False
    try:
        yield sink
    finally:
        sink.stop()
