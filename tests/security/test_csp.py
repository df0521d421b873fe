"""Issue 11 item 1: a Content-Security-Policy on every page, that would have stopped
a stored script: scripts and styles from this site's static files only."""

import pytest
from django.urls import reverse

from curation.views.figures import OPENSEADRAGON_STYLE_HASH
from tests.curation.test_permission_matrix import MATRIX, ROLES, _objects

pytestmark = pytest.mark.django_db

REQUIRED = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def _policy(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    directives = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


# The deep-zoom page alone also allows OpenSeadragon's one <style>, by the hash
# of its text (curation/views/figures.py; tests/curation/test_figure_deep_zoom.py).
EXCEPTIONS = {"figure_zoom": {"style-src": f"'self' {OPENSEADRAGON_STYLE_HASH}"}}


def _assert_strict(response, page: str = ""):
    policy = _policy(response)
    for directive, value in {**REQUIRED, **EXCEPTIONS.get(page, {})}.items():
        assert policy.get(directive) == value, (directive, policy)
    assert "unsafe" not in response.headers["Content-Security-Policy"]


GET_ROWS = [row for row in MATRIX if row.method == "get"]


@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_matrix_has_the_policy_for_every_role(
    client, role, curator, curator2, reviewer, admin, figure_storage
):
    objects = _objects(curator)
    user = {
        "anonymous": None,
        "author": curator,
        "other_curator": curator2,
        "reviewer": reviewer,
        "admin": admin,
    }[role]
    if user is not None:
        client.force_login(user)
    for row in GET_ROWS:
        response = client.get(reverse(row.url_name, args=objects[row.args]), row.data)
        _assert_strict(response, row.name)  # 200, 302, 403, 404 and 405 alike


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/login/", "/api/", "/no-such-page/", "/accounts/login/"]
)
def test_the_admin_api_and_error_pages_have_it_too(client, admin, path):
    _assert_strict(client.get(path))
    client.force_login(admin)
    _assert_strict(client.get(path))
