"""What README, docker-compose.yml, the Dockerfile and the production check must agree on.

Read by the deployment tests (tests/config/test_docker_compose.py,
test_deploy_config.py, test_readme.py) and by the production check
(tests/production/), which runs README's commands.
"""

from __future__ import annotations

import re
import shlex

import yaml

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
DOCKERFILE = (ROOT / "Dockerfile").read_text()
NGINX_TEMPLATE = (ROOT / "deploy" / "nginx.conf.template").read_text()

# The files whose environment variables are the app's settings.
SETTINGS_FILES = ("config/settings.py", "config/gunicorn.py")
_READ = re.compile(r'env_\w+\(\s*"([A-Z][A-Z0-9_]*)"')

# The marked code blocks of README that the production check runs.
CHECKED_COMMANDS = "production-check: tests/production runs these commands word for word"
CHECKED_BACKUP = "production-check: backup"


def settings_read_by_app() -> set[str]:
    return {name for path in SETTINGS_FILES for name in _READ.findall((ROOT / path).read_text())}


def readme_section(title: str) -> str:
    """The text of a `## title` section, up to the next `## `."""
    return README.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def readme_table_variables(title: str = "Settings") -> set[str]:
    table = readme_section(title)
    return {
        name
        for row in table.splitlines()
        if row.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])
    }


def readme_commands(marker: str) -> list[str]:
    """The commands of the ```sh block after `<!-- marker -->`, continuation lines joined."""
    block = README.split(f"<!-- {marker} -->", 1)[1]
    body = block.split("```sh\n", 1)[1].split("\n```", 1)[0]
    commands, current = [], ""
    for line in body.splitlines():
        line = line.rstrip()
        if line.endswith("\\"):
            current += line[:-1].strip() + " "
            continue
        current += line.strip()
        if current and not current.startswith("#"):
            commands.append(current)
        current = ""
    return commands


def exported_names(commands: list[str]) -> list[str]:
    names = []
    for command in commands:
        if command.startswith("export "):
            names += [word.split("=", 1)[0] for word in shlex.split(command)[1:]]
    return names


_INTERPOLATION = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?:(:?[-?])([^}]*))?\}")


def interpolate(value: str, environ: dict[str, str] | None = None) -> str:
    """docker compose's `${NAME}`, `${NAME:-default}` and `${NAME:?error}`, from `environ`.

    A required variable missing from `environ` becomes `<NAME>`.
    """
    environ = environ or {}

    def one(match: re.Match) -> str:
        name, operator, argument = match.groups()
        value = environ.get(name, "")
        if value:
            return value
        if operator and operator.endswith("-"):
            return argument
        return f"<{name}>"

    return _INTERPOLATION.sub(one, str(value))


def template_variables(template: str = NGINX_TEMPLATE) -> set[str]:
    """The ${NAME} variables envsubst fills in (nginx's own $variables are lower case)."""
    lines = [line for line in template.splitlines() if not line.lstrip().startswith("#")]
    return set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)\}", "\n".join(lines)))


def nginx_directive(name: str, template: str = NGINX_TEMPLATE) -> list[str]:
    """The values of every `name value;` directive of the template."""
    return re.findall(rf"^\s*{name}\s+([^;]+);", template, flags=re.MULTILINE)


def seconds(value: str) -> int:
    match = re.fullmatch(r"(\d+)(ms|s|m)?", value.strip())
    assert match, value
    number, unit = int(match.group(1)), match.group(2) or "s"
    return {"ms": number // 1000, "s": number, "m": number * 60}[unit]
