#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if sys.argv[1:2] == ["preflight"]:
        # The preflight reports what settings.py would refuse: let them load.
        os.environ["RAREDERM_PREFLIGHT"] = "1"
    try:
        from django.core.exceptions import ImproperlyConfigured
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Are you sure it's installed and "
            "available on your PYTHONPATH environment variable? Did you "
            "forget to activate a virtual environment? (`make install` creates "
            "RareDerm's in .venv: run .venv/bin/python manage.py ...)"
        ) from exc
    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as exc:
        # A settings problem is the operator's to fix, not a crash: its
        # message says what to set, and a traceback would only hide it.
        sys.exit(str(exc))


if __name__ == "__main__":
    main()
