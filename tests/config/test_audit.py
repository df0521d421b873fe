"""`make audit` where the vulnerability services cannot be reached says so and fails.

The services are made unreachable for certain, whatever machine runs this:
pip-audit's HTTPS goes through a proxy at a closed port on this machine, npm's
registry is that closed port, and both caches start empty, so no earlier
answer can stand in for one.
"""

import socket

from tests.config.test_makefile import make


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: connections are refused


def test_make_audit_without_the_services_says_not_audited_and_exits_non_zero(tmp_path):
    dead = f"http://127.0.0.1:{_closed_port()}"
    result = make(
        "audit",
        timeout=240,
        HTTPS_PROXY=dead,
        HTTP_PROXY=dead,
        https_proxy=dead,
        http_proxy=dead,
        NO_PROXY="",
        no_proxy="",
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        npm_config_registry=dead + "/",
        npm_config_cache=str(tmp_path / "npm"),
        npm_config_fetch_retries="0",
    )
    out = result.stdout
    assert result.returncode != 0, out
    assert "pip-audit: NOT AUDITED" in out, out
    assert "npm audit: NOT AUDITED" in out, out
    assert "make audit: NOT AUDITED" in out and "before every release" in out, out
    # Nothing that reads like a pass.
    assert "No known vulnerabilities found" not in out
    assert "no known vulnerability" not in out.lower().replace("not audited", "")
