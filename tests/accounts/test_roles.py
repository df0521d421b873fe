"""Roles: groups whose permissions each app declares, and migrations that keep every
database's history valid (new, or migrated before accounts/ existed)."""

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from accounts.roles import CURATOR, REVIEWER, has_role, role_permissions

ROOT = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.django_db


def group_permissions() -> dict[str, set[str]]:
    return {
        group.name: {
            f"{p.content_type.app_label}.{p.codename}"
            for p in group.permissions.select_related("content_type")
        }
        for group in Group.objects.prefetch_related("permissions")
    }


def test_each_group_holds_exactly_what_the_apps_declare_for_its_role():
    declared = role_permissions()
    assert group_permissions() == {role: set(perms) for role, perms in declared.items()}


def test_every_declared_permission_exists():
    """A typo in an app's role_permissions would grant nothing, silently."""
    from django.contrib.auth.models import Permission

    existing = {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.values_list(
            "content_type__app_label", "codename"
        )
    }
    for role, perms in role_permissions().items():
        assert set(perms) <= existing, (role, set(perms) - existing)


def test_a_reviewer_gets_every_permission_a_curator_gets_and_more():
    declared = role_permissions()
    assert set(declared[CURATOR]) < set(declared[REVIEWER])
    assert "curation.review_case" in declared[REVIEWER]
    assert "curation.review_case" not in declared[CURATOR]
    assert "citations.change_citation" not in declared[CURATOR]


def test_each_app_declares_only_its_own_models_permissions():
    for role, perms in role_permissions().items():
        for perm in perms:
            app_label = perm.split(".")[0]
            assert app_label in {"citations", "screening", "curation"}, (role, perm)


def test_a_declaration_for_a_role_that_is_no_group_is_refused(monkeypatch):
    config = apps.get_app_config("citations")
    monkeypatch.setattr(
        config, "role_permissions", {"superhero": ["view_citation"]}, raising=False
    )
    with pytest.raises(ImproperlyConfigured, match="'superhero'"):
        role_permissions()


def test_a_reviewer_holds_the_curator_role(reviewer, curator):
    assert has_role(reviewer, CURATOR) and has_role(reviewer, REVIEWER)
    assert has_role(curator, CURATOR) and not has_role(curator, REVIEWER)


# Outside a test transaction: SQLite's schema editor cannot drop tables inside one.
@pytest.mark.django_db(transaction=True)
def test_a_database_migrated_before_accounts_existed_migrates_on():
    """Such a database has curation.0001_roles and citations.0001_citations applied
    and no accounts migration: its history must stay consistent, and migrating
    applies accounts' migrations alone, changing no group."""
    before = group_permissions()
    recorder = MigrationRecorder(connection)
    for app_label, name in recorder.applied_migrations():
        if app_label == "accounts":
            recorder.record_unapplied(app_label, name)
    with connection.schema_editor() as editor:  # nor the tables of its later migrations
        for model in apps.get_app_config("accounts").get_models():
            editor.delete_model(model)
    assert ("curation", "0001_roles") in recorder.applied_migrations()

    MigrationLoader(connection).check_consistent_history(connection)  # raises if not
    executor = MigrationExecutor(connection)
    targets = executor.loader.graph.leaf_nodes()
    plan = executor.migration_plan(targets)
    assert {(migration.app_label, backwards) for migration, backwards in plan} == {
        ("accounts", False)
    }
    executor.migrate(targets)
    assert ("accounts", "0001_roles") in MigrationRecorder(connection).applied_migrations()
    assert group_permissions() == before


def test_a_new_sqlite_database_migrates_with_the_role_groups(tmp_path):
    """`make run` starts from an empty SQLite file: its groups get the same permissions."""
    database = tmp_path / "new.sqlite3"
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{database}"},
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT g.name, ct.app_label || '.' || p.codename FROM auth_group g"
            " JOIN auth_group_permissions gp ON gp.group_id = g.id"
            " JOIN auth_permission p ON p.id = gp.permission_id"
            " JOIN django_content_type ct ON ct.id = p.content_type_id"
        ).fetchall()
    found: dict[str, set[str]] = {}
    for name, perm in rows:
        found.setdefault(name, set()).add(perm)
    assert found == {role: set(perms) for role, perms in role_permissions().items()}
