"""manage.py: what it says when it cannot run."""

import subprocess
import sys

from tests.conftest import ROOT

WITHOUT_DJANGO = """
import runpy, sys
sys.modules["django"] = None  # as in a Python where Django is not installed
sys.argv = ["manage.py", "check"]
runpy.run_path("manage.py", run_name="__main__")
"""


def test_without_django_it_asks_whether_a_virtual_environment_was_forgotten():
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_DJANGO],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Did you forget to activate a virtual environment?" in result.stderr
    assert ".venv/bin/python manage.py" in result.stderr
