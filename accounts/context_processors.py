from accounts.roles import ADMIN, CURATOR, REVIEWER, role_names


def roles(request):
    """Role flags for the navigation; computed lazily so anonymous pages cost no query."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_curator": False, "is_reviewer": False, "is_admin": False}
    names = role_names(user)
    return {
        "is_curator": CURATOR in names,
        "is_reviewer": REVIEWER in names,
        "is_admin": ADMIN in names,
    }
