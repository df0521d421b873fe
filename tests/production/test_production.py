"""The production check: RareDerm as README deploys it, driven over real HTTPS.

One stack for the module, started from README's "Without Docker" commands
(tests/production/stack.py): nginx with a certificate made here, two gunicorn
processes (DEBUG=false, collected static files, psycopg2 built from source),
two Celery workers and two beats, on a PostgreSQL database and Redis number of
its own, the fake NCBI server and an SMTP server. The tests then use the site
as people do, in order: later ones build on what earlier ones did (a paper
fetched, a case submitted, then published).
"""

from __future__ import annotations

import logging
import os
import re
import shlex
import socket
import ssl
import subprocess
import time
import uuid

import pytest
import redis
from django.conf import settings

from tests.conftest import require_service
from tests.deployment import SERVICES, exported_names, readme_commands
from tests.fake_eutils import FakeEutils
from tests.production.client import Browser
from tests.production.stack import (
    PASSWORD,
    PROD_VENV,
    TOOLS,
    Databases,
    Stack,
    free_port,
    readme,
    wait_for_port,
    wait_for_text,
    which,
)
from tests.smtp_sink import SmtpSink

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CURATOR = ("carla", "curator", "carla@rarederm.test")
REVIEWER = ("rosa", "reviewer", "rosa@rarederm.test")
REPLICA_MARK = "posterior scalp (as the replica has it)"
# A paper's distinctive word, for the case the check adds and publishes.
WORD = "zygomatic"


def _requirements() -> tuple[str, str]:
    missing = [tool for tool in TOOLS if not which(tool)]
    if missing:
        require_service(f"the production check needs {', '.join(missing)} (see .ci/run)")
    if not (PROD_VENV / "bin" / "gunicorn").exists():
        require_service("the production check needs .venv-prod: make install-production")
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        require_service("the production check needs PostgreSQL: set DATABASE_URL=postgres://...")
    broker = settings.CELERY_BROKER_URL
    if not broker.startswith("redis://"):
        require_service("the production check needs Redis: set CELERY_BROKER_URL=redis://...")
    try:
        redis.Redis.from_url(broker, socket_connect_timeout=1).ping()
    except redis.RedisError as exc:
        require_service(f"the production check needs Redis at {broker}: {exc}")
    return url, broker


def _create_user(stack: Stack, username: str, role: str, email: str) -> None:
    stack.must(
        f".venv-prod/bin/python manage.py create_user {username} --role {role} "
        f"--email {email} --password-stdin",
        stdin=PASSWORD + "\n",
    )


def _after_load_demo(stack: Stack) -> None:
    """A replica (a copy of the primary, changed so that reads show where they went), and users."""
    databases = stack.databases
    databases.create(databases.replica, template=databases.name)
    databases.query(
        databases.replica, "UPDATE curation_case SET site_detail = %s WHERE id = 1", REPLICA_MARK
    )
    for user in (CURATOR, REVIEWER):
        _create_user(stack, *user)


def _boot(stack: Stack) -> None:
    stack.make_certificate()
    for command in readme():
        if command.startswith("export "):
            continue  # the check's own values are in stack.env (test_the_check_sets_...)
        if command == "make install-production":
            stack.must(command)
        elif command == ".venv-prod/bin/python manage.py preflight":
            stack.run(command)  # judged by test_preflight_finds_nothing_to_fix
        elif command.startswith(".venv-prod/bin/python manage.py "):
            stack.must(command)
            if command.endswith("load_demo"):
                _after_load_demo(stack)
        elif command.startswith(".venv-prod/bin/gunicorn "):
            # Two web processes share the port (reuse_port), as two machines share a proxy.
            for name in ("web-1", "web-2"):
                web = stack.start(name, command)
                wait_for_text("Booting worker", web.proc, web.log)
            wait_for_port(stack.web_port, web.proc, web.log)
        elif command.startswith(".venv-prod/bin/celery -A config worker"):
            # A second machine has another host name: the second worker is given one.
            for name, extra in (("worker-1", ""), ("worker-2", " --hostname=second@%h")):
                worker = stack.start(name, command + extra)
            for name in ("worker-1", "worker-2"):
                worker = stack.service(name)
                wait_for_text(" ready.", worker.proc, worker.log)
        elif command.startswith(".venv-prod/bin/celery -A config beat"):
            # The second beat has a machine, hence a data folder, of its own.
            stack.start("beat-1", command)
            wait_for_text("beat:", stack.service("beat-1").proc, stack.service("beat-1").log)
            second = stack.root / "second-machine"
            second.mkdir(exist_ok=True)
            stack.start("beat-2", command, DATA_DIR=str(second))
        elif " envsubst " in f" {command} ":
            stack.must(command)
        elif command == "nginx -t && nginx -s reload":
            test = subprocess.run(stack.nginx("-t"), capture_output=True, text=True, timeout=60)
            assert test.returncode == 0, test.stderr
            proxy = stack.start("nginx", shlex.join(stack.nginx()))
            wait_for_port(stack.https_port, proxy.proc, stack.root / "nginx" / "error.log")
        else:
            raise AssertionError(f"README gives a command the check does not run: {command}")
    for name in ("beat-1", "beat-2"):
        beat = stack.service(name)
        wait_for_text("periodic tasks", beat.proc, beat.log)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    url, broker = _requirements()
    fake = FakeEutils(rate_limit=4).start()
    # aiosmtpd logs each connection at INFO from its own thread, some of them
    # after the test that caused them has ended (and its log capture with it).
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    smtp = SmtpSink().start()
    databases = Databases(url)
    databases.create(databases.name)
    # Redis keys of its own, beside the suite's and anybody else's in that database.
    prefix = f"rarederm-test-{uuid.uuid4().hex[:12]}"
    root = tmp_path_factory.mktemp("production")
    built = Stack(root, databases, broker, prefix, fake.url, smtp.port)
    built.fake, built.smtp, built.state = fake, smtp, {}
    started = time.monotonic()
    try:
        _boot(built)
        built.state["boot seconds"] = time.monotonic() - started
        yield built
    finally:
        built.stop()
        built.forget_redis_keys()
        fake.stop()
        smtp.stop()
        databases.drop(databases.replica)
        databases.drop(databases.name)


@pytest.fixture
def public(stack) -> Browser:
    return Browser(stack.site_url, cafile=str(stack.root / "tls" / "fullchain.pem"))


def _mail_to(stack, recipient: str, subject_part: str, seconds: float = 60) -> str:
    """The text of the first e-mail to `recipient` whose subject has `subject_part`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in list(stack.smtp.messages):
            if recipient in message["To"] and subject_part in message["Subject"]:
                assert message["From"] == "RareDerm <rarederm@rarederm.test>"
                return message.get_payload(decode=True).decode()
        time.sleep(0.2)
    got = [(m["To"], m["Subject"]) for m in stack.smtp.messages]
    raise AssertionError(f"no e-mail to {recipient} about {subject_part!r}; got {got}")


def _logged_in(stack, user) -> Browser:
    browser = Browser(stack.site_url, cafile=str(stack.root / "tls" / "fullchain.pem"))
    browser.log_in(user[0], PASSWORD)
    return browser


def _log_ends(stack) -> dict[str, int]:
    return {name: len(stack.service(name).output()) for name in ("web-1", "web-2")}


def _served_by(stack, path: str, since: dict[str, int] | None = None) -> set[str]:
    """Which web processes logged a request for `path` (since the log ends `since`)."""
    since = since or {}
    return {
        name
        for name in ("web-1", "web-2")
        if f"GET {path} " in stack.service(name).output()[since.get(name, 0) :]
    }


# -- the installation ---------------------------------------------------------


def test_the_check_sets_every_variable_readme_exports(stack):
    assert set(exported_names(readme())) <= set(stack.env)


def test_production_runs_on_psycopg2_built_from_source_against_the_system_libpq(stack):
    python = str(PROD_VENV / "bin" / "python")
    found = subprocess.run(
        [python, "-c", "import psycopg2._psycopg as m; print(m.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    linked = subprocess.run(["ldd", found.stdout.strip()], capture_output=True, text=True).stdout
    libpq = next(line for line in linked.splitlines() if "libpq" in line)
    assert "psycopg2_binary.libs" not in libpq
    assert re.search(r"=> /(usr/)?lib/\S+/libpq\.so\.5", libpq), libpq
    binary = subprocess.run([python, "-m", "pip", "show", "psycopg2-binary"], capture_output=True)
    assert binary.returncode != 0, "psycopg2-binary is installed in .venv-prod"


def test_preflight_finds_nothing_to_fix(stack):
    result = stack.ran[".venv-prod/bin/python manage.py preflight"]
    assert result.returncode == 0, result.stderr
    assert "ready for production" in result.stdout


def test_the_compose_health_check_passes_as_compose_runs_it(stack):
    # ["CMD", "python", "-c", "...http://127.0.0.1:8000/healthz..."], inside the web container.
    kind, program, *args = SERVICES["web"]["healthcheck"]["test"]
    assert (kind, program) == ("CMD", "python")
    args = [stack.localise(arg) for arg in args]
    result = subprocess.run(
        [str(PROD_VENV / "bin" / "python"), *args],
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr


def test_healthz_through_the_proxy_counts_both_workers(stack, public):
    body = None
    for _ in range(20):
        answer = public.get("/healthz")
        body = answer.text
        if answer.status == 200 and '"count": 2' in body:
            break
        time.sleep(0.5)
    assert '"status": "ok"' in body and '"count": 2' in body, body


# -- pages over HTTPS ------------------------------------------------------------


def test_home_search_case_page_and_api_answer_over_https_with_the_safeguards(stack, public):
    home = public.get("/")
    assert home.status == 200
    assert "RareDerm" in home.text
    assert "max-age=31536000" in home.header("Strict-Transport-Security")
    assert home.header("X-Content-Type-Options") == "nosniff"
    assert home.header("X-Frame-Options") == "DENY"
    search = public.get("/search/?three=ALK")
    assert search.status == 200 and 'href="/cases/1/"' in search.text
    case = public.get("/cases/1/")
    assert case.status == 200 and "CARS1::ALK" in case.text
    api = public.get("/api/cases/?format=json")
    assert api.status == 200 and '"count":' in api.text


def test_plain_http_is_redirected_to_the_site_url(stack):
    plain = Browser(f"http://localhost:{stack.http_port}")
    answer = plain.get("/search/?q=scalp", follow=False)
    assert answer.status == 301
    assert answer.header("Location") == f"{stack.site_url}/search/?q=scalp"


def test_a_clients_own_x_forwarded_proto_changes_nothing(stack, public):
    # Django trusts the header because nginx always sets it: a client's is overwritten.
    answer = public.get("/cases/1/", headers={"X-Forwarded-Proto": "http"}, follow=False)
    assert answer.status == 200


def test_a_host_the_site_does_not_serve_is_refused(stack, public):
    answer = public.get("/", headers={"Host": "rarederm.attacker.example"}, follow=False)
    assert answer.status == 400


def test_static_files_are_served_by_hashed_name_gzipped_and_cached_for_a_year(stack, public):
    # The statistics page brings Chart.js too (200 kB: nginx buffers it in a temporary file).
    pages = public.get("/").text + public.get("/stats/").text
    assets = set(re.findall(r'(?:href|src)="(/static/[^"]+\.[0-9a-f]{12}\.(?:css|js))"', pages))
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    for asset in assets:
        plain = public.get(asset)
        assert plain.status == 200, asset
        assert "max-age=315360000" in plain.header("Cache-Control"), asset
        assert "immutable" in plain.header("Cache-Control"), asset
        zipped = public.get(asset, headers={"Accept-Encoding": "gzip"})
        assert zipped.header("Content-Encoding") == "gzip", asset
        assert len(zipped.body) < len(plain.body)
        assert zipped.text == plain.body.decode()
    assert public.get("/static/css/no-such-file.0123456789ab.css").status == 404


# -- two web processes, two workers, one Redis ------------------------------------------


def test_a_session_works_on_both_web_processes(stack):
    curator = _logged_in(stack, CURATOR)
    for _ in range(16):
        answer = curator.get("/curate/drafts/", follow=False)
        assert answer.status == 200, answer.header("Location")
    assert _served_by(stack, "/curate/drafts/") == {"web-1", "web-2"}
    stack.state["curator"] = curator


def test_a_bulk_fetch_runs_on_both_workers_within_one_rate_limit(stack):
    curator = stack.state.get("curator") or _logged_in(stack, CURATOR)
    pmids = [p for p in stack.fake.recorded_pmids if p != 35560368]
    stack.fake.reset_counts()
    job = curator.submit("/curate/bulk/", pmids="\n".join(map(str, pmids)))
    assert job.status == 200 and "/curate/bulk/" in job.url, job.text[:500]
    deadline = time.monotonic() + 90
    missing = pmids
    while missing and time.monotonic() < deadline:
        missing = [p for p in missing if curator.get(f"/citations/{p}/").status != 200]
        time.sleep(0.5)
    assert not missing, f"never fetched: {missing}\n{stack.service('worker-1').output()[-2000:]}"
    answered = [r for r in stack.fake.requests if r.endpoint == "efetch"]
    assert len(answered) >= len(pmids)  # one PMID per request (ENTREZ_BATCH_SIZE=1)
    assert not [r for r in answered if r.status == 429], "the workers broke the rate limit"
    assert stack.fake.max_in_any_second("efetch") <= 4
    for name in ("worker-1", "worker-2"):
        assert "citations.fetch_job_batch" in stack.service(name).output(), name
    stack.state["pmid"] = pmids[0]


def test_a_submission_is_e_mailed_by_smtp_with_a_link_to_the_site(stack):
    curator = stack.state.get("curator") or _logged_in(stack, CURATOR)
    pmid = stack.state.get("pmid")
    assert pmid, "needs the paper fetched by the bulk fetch test"
    report = curator.get(f"/curate/reports/{pmid}/")
    assert report.status == 200
    draft = curator.post(f"/curate/reports/{pmid}/cases/new/", {"label": "Case 1"})
    match = re.search(r"/curate/cases/(\d+)/", draft.url)
    assert match, draft.url
    pk = int(match.group(1))
    submitted = curator.submit(
        f"/curate/cases/{pk}/",
        form_id="case-form",
        action="submit",
        age="52",
        sex="male",
        final_diagnosis="inflammatory myofibroblastic tumor",
        topography="C44.3",
        site_detail=f"left {WORD} arch",
        histology="Spindle cells in fascicles.",
        **{
            "ihc-TOTAL_FORMS": "1",
            "ihc-INITIAL_FORMS": "0",
            "ihc-0-marker": "ALK",
            "ihc-0-result": "positive",
        },
    )
    errors = re.findall(r'class="(?:errorlist|field-error)[^"]*"[^>]*>(.*?)</', submitted.text)
    assert submitted.status == 200, errors
    assert stack.databases.query(
        stack.databases.name, "SELECT status FROM curation_case WHERE id = %s", pk
    ) == [("submitted",)], submitted.text[:3000]
    assert f"{stack.site_url}/review/{pk}/" in _mail_to(stack, REVIEWER[2], "waits for review")
    stack.state["case"] = pk


def test_a_publication_shows_within_seconds_in_every_web_processs_search(stack, public):
    """Readers are served the previous facet index while one process rebuilds it in the
    background (SEARCH_REFRESH_IN_BACKGROUND, issue 19): the case shows within seconds,
    then in every search of every web process."""
    pk = stack.state.get("case")
    assert pk, "needs the case submitted by the previous test"
    link = f'href="/cases/{pk}/"'
    for _ in range(8):  # both processes hold the search's index and words before
        assert link not in public.get(f"/search/?q={WORD}").text
    reviewer = _logged_in(stack, REVIEWER)
    decided = reviewer.submit(f"/review/{pk}/", decision="approve")
    assert decided.status == 200
    assert f"{stack.site_url}/cases/{pk}/" in _mail_to(stack, CURATOR[2], "approved and published")
    deadline = time.monotonic() + 15
    while link not in public.get(f"/search/?q={WORD}").text:
        assert time.monotonic() < deadline, "the published case is not in the search after 15 s"
        time.sleep(0.2)
    since = _log_ends(stack)
    for _ in range(16):
        assert link in public.get(f"/search/?q={WORD}").text
    assert _served_by(stack, f"/search/?q={WORD}", since) == {"web-1", "web-2"}


def test_one_beat_sends_the_periodic_tasks_and_the_other_stands_by(stack):
    logs = [stack.service(name).output() for name in ("beat-1", "beat-2")]
    sending = [log for log in logs if "beat: this beat (" in log]
    standing_by = [log for log in logs if "this one stands by" in log]
    assert len(sending) == 1 and len(standing_by) == 1, logs


# -- slow clients ------------------------------------------------------------------


def _slow_clients(stack, count: int) -> list[socket.socket]:
    """Connections that never finish their request: silent, half a header, a trickle of body."""
    context = ssl.create_default_context(cafile=str(stack.root / "tls" / "fullchain.pem"))
    held = []
    for i in range(count):
        raw = socket.create_connection(("127.0.0.1", stack.https_port), timeout=5)
        if i % 3 == 0:
            held.append(raw)  # connected, says nothing (not even TLS)
            continue
        tls = context.wrap_socket(raw, server_hostname="localhost")
        if i % 3 == 1:
            tls.sendall(f"GET / HTTP/1.1\r\nHost: localhost:{stack.https_port}\r\n".encode())
        else:
            tls.sendall(
                b"POST /accounts/login/ HTTP/1.1\r\nHost: localhost\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"Content-Length: 100000\r\n\r\nusername=sl"
            )
        held.append(tls)
    return held


def test_slow_and_half_open_connections_do_not_slow_the_pages(stack, public):
    workers = 2 * int(stack.env["WEB_CONCURRENCY"])
    held = _slow_clients(stack, 4 * workers)  # four per sync worker of gunicorn
    try:
        time.sleep(1.0)
        for path in ("/", "/search/?three=ALK", "/cases/1/", "/stats/", "/search/?q=scalp") * 2:
            answer = public.get(path)
            assert answer.status == 200, path
            assert answer.seconds < 3.0, f"{path} took {answer.seconds:.1f} s"
    finally:
        for connection in held:
            connection.close()


# -- the replica -------------------------------------------------------------------


def test_with_a_replica_public_pages_read_from_it_and_logged_in_pages_from_the_primary(stack):
    # A third web process, started as README starts gunicorn, with DATABASE_REPLICA_URL;
    # without Redis, so that what it caches stays its own.
    port = free_port()
    gunicorn = next(c for c in readme() if c.startswith(".venv-prod/bin/gunicorn "))
    web = stack.start(
        "web-replica",
        gunicorn.replace("127.0.0.1:8000", f"127.0.0.1:{port}"),
        DATABASE_REPLICA_URL=stack.databases.url_of(stack.databases.replica),
        CELERY_BROKER_URL="",
    )
    wait_for_port(port, web.proc, web.log)
    # Requests as the proxy passes them on (it sets X-Forwarded-Proto).
    site = f"https://localhost:{port}"
    proxied = {"X-Forwarded-Proto": "https"}
    anonymous = Browser(site, connect_port=port, extra_headers=proxied)
    page = anonymous.get("/cases/1/")
    assert page.status == 200 and REPLICA_MARK in page.text
    curator = Browser(site, connect_port=port, extra_headers=proxied)
    curator.log_in(CURATOR[0], PASSWORD)  # the session is written to the primary
    page = curator.get("/cases/1/")
    assert page.status == 200
    assert "posterior scalp" in page.text and REPLICA_MARK not in page.text


# -- backups (last: it drops the database under the running stack) ------------------


def _history(stack) -> dict[str, int]:
    name = stack.databases.name
    return {
        table: stack.databases.query(name, f"SELECT count(*) FROM {table} WHERE id = 1")[0][0]  # noqa: S608
        for table in ("curation_case", "curation_historicalcase")
    } | {
        "events": stack.databases.query(
            name, "SELECT count(*) FROM curation_caseevent WHERE case_id = 1"
        )[0][0]
    }


def test_backup_drop_and_restore_bring_the_founding_case_and_its_history_back(stack, public):
    backup, restore = readme_commands("production-check: backup")
    store = stack.root / "object-storage"
    store.mkdir()
    before = _history(stack)
    assert before["curation_case"] == 1 and before["curation_historicalcase"] >= 1
    made = stack.must(
        backup.replace("aws s3 cp {} s3://your-bucket/rarederm/", f"cp {{}} {store}/"),
        BACKUP_DIR=str(stack.root / "backups"),
    )
    (dump,) = (stack.root / "backups").glob("rarederm-*.dump")
    assert (store / dump.name).read_bytes() == dump.read_bytes(), made.stdout

    stack.databases.drop(stack.databases.name)
    assert public.get("/healthz").status == 503

    stack.must(restore.replace("data/backups/rarederm-20261202T101500Z.dump", str(dump)))
    assert _history(stack) == before
    page = public.get("/cases/1/")
    assert page.status == 200 and "CARS1::ALK" in page.text
    assert public.get("/healthz").status == 200
