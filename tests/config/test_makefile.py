"""The Makefile as a newcomer meets it: clear refusals, progress, and the right address."""

import os
import signal
import socket
import subprocess

import pytest

from tests.conftest import ROOT


def make(*args, timeout=60, **env) -> subprocess.CompletedProcess:
    full_env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CELERY_BROKER_URL", "MAKEFLAGS", "MAKELEVEL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    full_env.update(env)
    proc = subprocess.Popen(
        ["make", "--no-print-directory", *args],
        cwd=ROOT,
        env=full_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        pytest.fail(f"make {' '.join(args)} still ran after {timeout} s:\n{out[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, "")


@pytest.mark.parametrize("target", ["worker", "beat"])
def test_worker_and_beat_refuse_to_start_without_a_broker(target):
    # Celery's default broker is amqp://guest@localhost: it would start and
    # quietly talk to whatever listens there.
    result = make(target, timeout=30)
    assert result.returncode == 2, result.stdout
    assert f"make {target} needs CELERY_BROKER_URL" in result.stdout
    assert "Without it, tasks run inline in the web process" in result.stdout


def test_run_says_the_port_is_taken_before_its_banner(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        result = make(
            "run",
            f"PORT={port}",
            DATA_DIR=str(tmp_path),
            DATABASE_URL=f"sqlite:///{tmp_path / 'run.sqlite3'}",
        )
    assert result.returncode != 0
    assert f"make run: 127.0.0.1:{port} is already in use" in result.stdout
    assert "make run PORT=8001" in result.stdout
    assert "RareDerm is at" not in result.stdout
    assert "migrate" not in result.stdout  # nothing was done before the refusal


def test_run_gives_the_server_its_own_address_as_site_url():
    # E-mails have no request to take an address from: make run sets SITE_URL
    # to the address it serves, unless the user set one.
    result = make("-n", "run", "PORT=8123")
    assert 'SITE_URL="${SITE_URL:-http://127.0.0.1:8123}"' in result.stdout
    assert "manage.py runserver 127.0.0.1:8123" in result.stdout


def test_a_first_install_says_what_each_long_step_does_and_shows_pips_progress():
    lines = make("-n", "-B", "install").stdout.splitlines()
    steps = [i for i, line in enumerate(lines) if line.startswith('echo "==> [')]
    assert len(steps) == 3, lines
    pip = next(i for i, line in enumerate(lines) if "-e '.[dev]'" in line)
    npm = next(i for i, line in enumerate(lines) if line.startswith("npm ci"))
    assert steps[0] < pip < steps[1] < npm < steps[2]
    assert "--quiet" not in lines[pip]
