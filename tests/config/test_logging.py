"""Log lines: each printed once, at the level LOG_LEVEL asks for."""

import os
import subprocess
import sys

from tests.conftest import ROOT

LOG = """
import django, logging
django.setup()
logging.getLogger("django.request").warning("probe: django.request")
logging.getLogger("curation").warning("probe: curation")
logging.getLogger("django.request").info("probe: an info line")
"""


def logged(**env) -> list[str]:
    full_env = {
        k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_LEVEL", "SECRET_KEY")
    }
    full_env.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    result = subprocess.run(
        [sys.executable, "-c", LOG],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [line for line in result.stderr.splitlines() if "probe:" in line]


def test_in_development_every_log_line_is_printed_once():
    lines = logged(DEBUG="true")
    assert sum("probe: django.request" in line for line in lines) == 1, lines
    assert sum("probe: curation" in line for line in lines) == 1, lines


def test_log_level_warning_silences_info_lines_of_django_too():
    lines = logged(DEBUG="true", LOG_LEVEL="WARNING")
    assert not any("an info line" in line for line in lines), lines
    assert any("probe: django.request" in line for line in lines)
