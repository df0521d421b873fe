"""Errors are shown on the site's own pages, saying why, and a refusal is logged in one line."""

import logging

import pytest
from django.test import RequestFactory
from django.urls import reverse

from config import errors
from tests.curation.curate_forms import log_in
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db


def test_a_page_that_does_not_exist_is_a_branded_404(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="brand"' in page and "There is no page at this address." in page
    assert "Resolver404" not in page and "tried" not in page


def test_a_case_that_is_not_public_is_a_404_that_says_so_in_words(client):
    response = client.get(reverse("curation:case_detail", args=[999999]))
    assert response.status_code == 404
    assert "No such case." in response.content.decode()


def test_djangos_own_lookup_message_is_not_shown(client, curator):
    log_in(client, curator)
    response = client.get(reverse("curation:report", args=[424242]))
    assert response.status_code == 404
    page = response.content.decode()
    assert "matches the given query" not in page
    assert "There is no page at this address." in page


def test_a_refusal_says_why_and_is_logged_without_a_traceback(client, curator, caplog):
    log_in(client, curator)
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("curation:review_queue"))
    assert response.status_code == 403
    page = response.content.decode()
    assert 'class="brand"' in page and "This page is for reviewers." in page
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage().startswith("Forbidden")
    # What the configured console handler prints of it: one line, no traceback.
    (console,) = [h for h in logging.getLogger().handlers if h.get_name() == "console"]
    assert console.filter(record)
    printed = console.format(record)
    assert "Traceback" not in printed and "PermissionDenied" not in printed
    assert printed.count("\n") == 0


def test_a_server_error_page_needs_no_database_and_says_what_to_check(django_assert_num_queries):
    request = RequestFactory().get("/")
    with django_assert_num_queries(0):
        response = errors.server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert 'class="brand"' in page and "Something went wrong on our side" in page


def test_an_expired_form_token_is_explained(client, curator):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    log_in(strict, curator)
    response = strict.post(reverse("curation:new_report"), {"identifier": "35560368"})
    assert response.status_code == 403
    assert "security token was missing or out of date" in response.content.decode()


@pytest.mark.parametrize(
    "path", ["/citations/?q=lung%00", "/citations/export/?format=csv&q=lung%00"]
)
def test_a_nul_character_in_the_citation_search_is_dropped_not_a_500(client, path):
    """Before: PostgreSQL refused the NUL and the page was a 500."""
    CitationFactory(title="Metastatic lung carcinoma to the skin.")
    response = client.get(path)
    assert response.status_code == 200
    assert "Metastatic lung carcinoma" in response.content.decode("utf-8-sig")


DATABASE_DOWN = """
import django, json
django.setup()
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
client = Client(raise_request_exception=False)
answers = {}
for path in ("/", "/search/?q=alk", "/citations/", "/search/export/csv/", "/search/export/json/"):
    response = client.get(path)
    body = b"" if response.streaming else response.content
    answers[path] = [response.status_code, response.streaming, body.decode()]
print(json.dumps(answers))
"""


def test_with_the_database_down_pages_and_exports_answer_503_saying_so():
    """Before: a bare 500, and an export that answered 200 then stopped mid-file."""
    import json

    from tests.conftest import run_python

    result = run_python(
        ["-c", DATABASE_DOWN],
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL="postgres://postgres@127.0.0.1:1/nowhere",
        DATABASE_CONNECT_TIMEOUT="1",
        CELERY_BROKER_URL="",
    )
    assert result.returncode == 0, result.stderr
    answers = json.loads(result.stdout.strip().splitlines()[-1])
    for path, (status, streaming, body) in answers.items():
        assert (path, status, streaming) == (path, 503, False)
        assert "database is not answering" in body and 'class="brand"' in body
