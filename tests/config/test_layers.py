"""The layers: outbox and accounts below citations below screening below curation, never the
other way round.

outbox (outgoing e-mail) knows no user, no citation and no case; accounts
knows no citation and no case; citations knows no case. Every module,
migration and template of a lower app is read, and any reference to a higher
app fails: an import (at the top or inside a function), a string naming it (a
migration dependency, `apps.get_model("curation", ...)`, a task or URL name, a
template path), or a template tag naming it (`{% url 'curation:...' %}`,
`{% include "curation/..." %}`). The import graph of the apps has no cycle.
"""

import ast
import re
from pathlib import Path

import pytest
from django.db.migrations.loader import MigrationLoader

ROOT = Path(__file__).resolve().parent.parent.parent
APPS = ("outbox", "accounts", "citations", "screening", "curation")
# What each app may not know: every app above it.
ABOVE = {
    "outbox": ("accounts", "citations", "screening", "curation"),
    "accounts": ("citations", "screening", "curation"),
    "citations": ("screening", "curation"),
    "screening": ("curation",),
}
# The templates each app owns (Django's auth views look in registration/).
TEMPLATES = {
    "accounts": ["templates/registration"],
    "citations": ["templates/citations"],
    "screening": ["templates/screening"],
}
TAG = re.compile(r"{%.*?%}", re.DOTALL)


def modules(app: str) -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def names_a_module_of(name: str, app: str) -> bool:
    return name == app or name.startswith(app + ".")


def names_app(text: str, app: str) -> bool:
    """ "curation", "curation.x", "curation:x", "curation/x" (not "curation_x" or prose)."""
    return text == app or text.startswith((app + ".", app + ":", app + "/"))


def python_references(path: Path, apps: tuple[str, ...]) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            imported = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported = [node.module]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            found += [
                f"line {node.lineno}: {node.value!r}"
                for app in apps
                if names_app(node.value.strip(), app)
            ]
            continue
        else:
            continue
        found += [
            f"line {node.lineno}: import {name}"
            for name in imported
            for app in apps
            if names_a_module_of(name, app)
        ]
    return found


def template_references(path: Path, apps: tuple[str, ...]) -> list[str]:
    return [
        tag
        for tag in TAG.findall(path.read_text())
        for app in apps
        if re.search(rf"""['"]{app}[:/]|\b{app}\.""", tag)
    ]


LOWER_FILES = [
    (app, path)
    for app in ABOVE
    for path in [*modules(app).values(), *(ROOT / app).rglob("*.html")]
]
LOWER_TEMPLATES = [
    (app, path)
    for app, folders in TEMPLATES.items()
    for f in folders
    for path in (ROOT / f).rglob("*.html")
]


@pytest.mark.parametrize(
    ("app", "path"), LOWER_FILES, ids=[str(p.relative_to(ROOT)) for _, p in LOWER_FILES]
)
def test_a_lower_app_module_refers_to_no_app_above_it(app, path):
    assert python_references(path, ABOVE[app]) == []


@pytest.mark.parametrize(
    ("app", "path"), LOWER_TEMPLATES, ids=[str(p.relative_to(ROOT)) for _, p in LOWER_TEMPLATES]
)
def test_a_lower_app_template_refers_to_no_app_above_it(app, path):
    assert template_references(path, ABOVE[app]) == []


def test_the_walk_sees_every_kind_of_reference(tmp_path):
    """The checks above would catch each way of naming curation."""
    module = tmp_path / "module.py"
    module.write_text(
        "import curation.models\n"
        "from curation.roles import has_role\n"
        "def f():\n"
        "    from curation import tasks\n"
        "DEPENDENCIES = [('curation', '0001_roles')]\n"
        "URL = 'curation:case_detail'\n"
        "NOT_A_REFERENCE = 'no curation_x, just curation in prose'\n"
    )
    assert len(python_references(module, ("curation",))) == 5
    template = tmp_path / "page.html"
    template.write_text(
        "{% url 'curation:case_detail' 1 %}{% include \"curation/_x.html\" %}"
        "{% load curation.tags %}<p>curation in prose</p>{% url 'citations:list' %}"
    )
    assert len(template_references(template, ("curation",))) == 3


def test_the_walk_covers_migrations_commands_and_templates():
    walked = {str(path.relative_to(ROOT)) for _, path in LOWER_FILES + LOWER_TEMPLATES}
    assert "citations/migrations/0001_citations.py" in walked
    assert "accounts/migrations/0001_roles.py" in walked
    assert "outbox/migrations/0001_emails.py" in walked
    assert "outbox/actions.py" in walked
    assert "accounts/management/commands/create_user.py" in walked
    assert "templates/citations/_job_progress.html" in walked
    assert "screening/actions.py" in walked
    assert "templates/screening/inbox.html" in walked
    assert "templates/registration/login.html" in walked


def test_no_lower_app_migration_depends_on_a_migration_above_it():
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    for key in graph.nodes:
        if key[0] in ABOVE:
            above = [a for a in graph.forwards_plan(key) if a[0] in ABOVE[key[0]]]
            assert above == [], key


def test_the_apps_import_each_other_in_no_circle():
    """Imports inside functions count: they only hide a circle (as actions <-> tasks did)."""
    every = {name: path for app in APPS for name, path in modules(app).items()}

    def module_of(name: str) -> str | None:
        while name and name not in every:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in every.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                deps |= {module_of(alias.name) for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                deps |= {module_of(f"{node.module}.{alias.name}") for alias in node.names}
        graph[name] = deps - {None, name}

    def reaches(start: str, goal: str) -> list[str] | None:
        todo, seen = [[start]], {start}
        while todo:
            path = todo.pop()
            for nxt in sorted(graph[path[-1]]):
                if nxt == goal:
                    return [*path, nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append([*path, nxt])
        return None

    circles = [c for name in sorted(graph) if (c := reaches(name, name))]
    assert circles == [], " | ".join(" -> ".join(c) for c in circles)
