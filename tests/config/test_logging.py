"""Log lines: each printed once, at the level LOG_LEVEL asks for."""

from tests.conftest import run_python

LOG = """
import django, logging
django.setup()
logging.getLogger("django.request").warning("probe: django.request")
logging.getLogger("curation").warning("probe: curation")
logging.getLogger("django.request").info("probe: an info line")
"""


def logged(**env) -> list[str]:
    result = run_python(
        ["-c", LOG],
        drop=("DEBUG", "LOG_LEVEL", "SECRET_KEY"),
        DJANGO_SETTINGS_MODULE="config.settings",
        **env,
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
