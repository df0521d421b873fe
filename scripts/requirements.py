"""Print the pinned requirements of a production installation, one per line.

The project's dependencies plus its `production` extra, from pyproject.toml:
the Dockerfile and `make install-production` install exactly these, with
requirements.lock as constraints and psycopg2 built from source:

    pip install -c requirements.lock --no-binary psycopg2 $(python3 scripts/requirements.py)
"""

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def production_requirements() -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    return project["dependencies"] + project["optional-dependencies"]["production"]


if __name__ == "__main__":
    print("\n".join(production_requirements()))
