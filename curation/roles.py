"""The roles of RareDerm: who may do what.

Roles are Django groups (created by a data migration); an admin is a
superuser. Code asks `has_role(user, CURATOR)` rather than looking at groups,
so that "a reviewer may do all a curator may" is written once, here.
"""

CURATOR = "curator"
REVIEWER = "reviewer"
ADMIN = "admin"
ROLES = (CURATOR, REVIEWER, ADMIN)

# Model permissions each group gets, as "app_label.codename". Permissions of
# models that do not exist yet are skipped; a migration that adds models calls
# sync_role_groups again.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    CURATOR: [
        "curation.add_case",
        "curation.change_case",
        "curation.view_case",
        "curation.add_ihcresult",
        "curation.change_ihcresult",
        "curation.delete_ihcresult",
        "curation.add_fusionfinding",
        "curation.change_fusionfinding",
        "curation.delete_fusionfinding",
        "citations.add_citation",
        "citations.view_citation",
        "citations.add_fetchjob",
        "citations.view_fetchjob",
    ],
}
ROLE_PERMISSIONS[REVIEWER] = [
    *ROLE_PERMISSIONS[CURATOR],
    "curation.review_case",
    "curation.add_diagnosis",
    "curation.change_diagnosis",
    "curation.view_diagnosis",
    "curation.add_topography",
    "curation.change_topography",
    "curation.view_topography",
    "curation.add_gene",
    "curation.change_gene",
    "curation.view_gene",
    "curation.add_marker",
    "curation.change_marker",
    "curation.view_marker",
    "citations.change_citation",
]

_CACHE_ATTR = "_rarederm_role_names"


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
            if REVIEWER in groups:
                groups.add(CURATOR)
            cached = frozenset(groups & set(ROLES))
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


def sync_role_groups(apps, schema_editor=None) -> None:
    """Create the role groups and give them their permissions.

    Written for migrations (it takes the historical app registry) and safe to
    run again: permissions are added, never removed.
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
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        for perm in perms:
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if found is not None:
                group.permissions.add(found)
