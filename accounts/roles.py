"""The roles of RareDerm: who may do what.

Roles are Django groups (created by accounts' data migration); an admin is a
superuser. Code asks `has_role(user, CURATOR)` rather than looking at groups,
and "a reviewer may do all a curator may" is written once, in INCLUDES: it
decides both what `has_role` answers and which permissions a group gets.

accounts knows no other app's models. Each app declares the permissions its
models give to each role on its AppConfig, as codenames of its own models:

    class CitationsConfig(AppConfig):
        role_permissions = {CURATOR: ["add_citation", ...], REVIEWER: [...]}

and `sync_role_groups` (called by the migrations that add models) grants them.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

CURATOR = "curator"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (CURATOR, REVIEWER, ADMIN)
# The roles that are groups; an admin is a superuser, who holds every role.
GROUP_ROLES = (CURATOR, REVIEWER)
# A role holds every role it includes: a reviewer may do all a curator may.
INCLUDES: dict[str, tuple[str, ...]] = {REVIEWER: (CURATOR,)}

_CACHE_ATTR = "_rarederm_role_names"


def with_included(roles) -> frozenset[str]:
    """The roles, plus every role they include (and what those include)."""
    held: set[str] = set()
    todo = list(roles)
    while todo:
        role = todo.pop()
        if role not in held:
            held.add(role)
            todo.extend(INCLUDES.get(role, ()))
    return frozenset(held)


def role_names(user) -> frozenset[str]:
    """The roles a user holds, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        if user.is_superuser:
            cached = frozenset(ROLES)
        else:
            groups = set(user.groups.values_list("name", flat=True))
            cached = with_included(groups & set(GROUP_ROLES))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def has_role(user, role: str) -> bool:
    return role in role_names(user)


def primary_role(user) -> str:
    """The highest role a user holds, for audit events ("reviewer")."""
    names = role_names(user)
    for role in (ADMIN, REVIEWER, CURATOR):
        if role in names:
            return role
    return ""


def role_permissions() -> dict[str, list[str]]:
    """Each group's permissions as "app_label.codename", from every installed app.

    A role gets what the apps declare for it and for every role it includes.
    A declaration for a role that is not a group is a mistake that would
    grant nothing, silently: it raises ImproperlyConfigured.
    """
    from django.apps import apps

    declared: dict[str, list[str]] = {role: [] for role in GROUP_ROLES}
    for config in apps.get_app_configs():
        for role, codenames in getattr(config, "role_permissions", {}).items():
            if role not in declared:
                raise ImproperlyConfigured(
                    f"{config.name}: role_permissions names {role!r}, which is not one of "
                    f"the role groups {', '.join(GROUP_ROLES)}."
                )
            declared[role].extend(f"{config.label}.{codename}" for codename in codenames)
    return {
        role: list(
            dict.fromkeys(
                perm for held in sorted(with_included([role])) for perm in declared[held]
            )
        )
        for role in GROUP_ROLES
    }


def create_role_groups(apps, schema_editor=None) -> None:
    """Create the role groups (accounts' migration); permissions come with the models."""
    Group = apps.get_model("auth", "Group")
    for role in GROUP_ROLES:
        Group.objects.get_or_create(name=role)


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create the role groups and give them the permissions every app declares.

    For the migrations that add models (it takes the historical app registry)
    and safe to run again: permissions are added, never removed; those of
    models that do not exist yet are skipped.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    _grant(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def ensure_role_groups() -> None:
    """The same, with the live models: after a test flush (which keeps permissions)."""
    from django.contrib.auth.models import Group, Permission

    _grant(Group, Permission)


def _grant(Group, Permission) -> None:
    for role, perms in role_permissions().items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is not None:
                group.permissions.add(found)
