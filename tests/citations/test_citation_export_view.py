"""Export downloads: one citation or a search, in every format."""

import json
from pathlib import Path

import pytest
import rispy
from django.core.management import call_command
from django.urls import reverse

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(capsys):
    call_command("import_pubmed_xml", *sorted(str(p) for p in FIXTURES.glob("pubmed*.xml")))
    capsys.readouterr()


def test_one_citation_downloads_as_ris(client, recorded):
    response = client.get(reverse("citations:export"), {"format": "ris", "pmid": "35560368"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-research-info-systems; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pmid35560368.ris"'
    (entry,) = rispy.loads(response.content.decode())
    assert entry["doi"] == "10.1111/cup.14261"


def test_a_search_downloads_as_json(client, recorded, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):  # citations, authors
        response = client.get(reverse("citations:export"), {"format": "json", "q": "lung"})
    items = json.loads(response.content)
    assert response["Content-Disposition"] == 'attachment; filename="pmid29963580.json"'
    assert [item["pmid"] for item in items] == [29963580]
    response = client.get(reverse("citations:export"), {"format": "json"})
    assert len(json.loads(response.content)) == 9


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"format": "docx", "pmid": "35560368"}, 400),
        ({"format": "ris", "pmid": "35560368x"}, 400),
        ({"format": "ris", "pmid": "1"}, 404),
    ],
)
def test_bad_requests_get_a_clear_answer(client, recorded, params, status):
    assert client.get(reverse("citations:export"), params).status_code == status
