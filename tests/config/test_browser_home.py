"""In a real browser: the home page, a curator's login, and a phone-width screen."""

import pytest

from tests.conftest import login

pytestmark = pytest.mark.browser


def test_a_curator_logs_in_and_sees_the_curator_navigation(page, live_server, curator):
    page.goto(live_server.url + "/")
    assert page.get_by_role("heading", name="Rare skin tumours, case by case").is_visible()
    # htmx came from this server's static files: the page loads nothing from outside.
    assert page.evaluate("typeof window.htmx") == "object"

    login(page, live_server, curator)

    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_text(f"{curator.username} (curator)").is_visible()
    assert nav.get_by_role("button", name="Log out").is_visible()
    assert nav.get_by_role("link", name="Admin").count() == 0


def test_the_home_page_fits_a_phone_screen_without_sideways_scrolling(page, live_server):
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto(live_server.url + "/")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    assert page.get_by_role("link", name="Skip to content").count() == 1
