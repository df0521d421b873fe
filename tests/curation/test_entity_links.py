"""Every place that names a diagnosis leads to its entity page (issue 15 §2: "linked from
facets, case titles, statistics bars, the immunoprofile summary"), by one rule
(curation.search.answers.entity_url), and every diagnosis's link opens its page."""

import json
import re

import pytest
from django.urls import reverse

from curation.models import Diagnosis
from curation.search.answers import entity_url
from tests.curation.searchdata import build_registry

IMT = "/diagnoses/inflammatory-myofibroblastic-tumor/"
DFSP = "/diagnoses/dermatofibrosarcoma-protuberans/"


@pytest.fixture
def registry(db):
    return build_registry()


def entity_links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+)"[^>]*data-entity', html)


def test_the_diagnosis_facet_links_each_diagnosis_to_its_page_and_still_filters(client, registry):
    page = client.get(reverse("curation:search")).content.decode()
    facet = page.split('data-facet="dx"', 1)[1].split("</section>", 1)[0]
    assert sorted(entity_links(facet)) == sorted([IMT, DFSP, "/diagnoses/spindle-cell-melanoma/"])
    imt = Diagnosis.objects.get(name="inflammatory myofibroblastic tumor")
    assert f'href="?dx={imt.pk}"' in facet or f"dx={imt.pk}" in facet  # the filter link
    # Other facets link nowhere but to their filters.
    site = page.split('data-facet="site"', 1)[1].split("</section>", 1)[0]
    assert entity_links(site) == []


def test_each_result_card_links_its_diagnosis(client, registry):
    page = client.get(reverse("curation:search"), {"q": "ALK"}).content.decode()
    results = page.split('class="result-list"', 1)[1].split("</ol>", 1)[0]
    cards = results.split('<li class="result card">')[1:]
    assert cards
    for card in cards:
        (link,) = entity_links(card)
        name = re.search(r'<h3><a href="[^"]+">([^<]+)</a>', card).group(1)
        assert link == entity_url(name.lower()), card


def test_the_statistics_diagnosis_bars_and_table_open_the_entity_pages(client, registry):
    response = client.get(reverse("curation:stats"))
    page = response.content.decode()
    data = json.loads(re.search(r'id="chart-data"[^>]*>(.*?)</script>', page, re.S).group(1))
    rows = data["diagnosis"]["rows"]
    assert data["diagnosis"]["links"] == [entity_url(name) for name, _ in rows]
    assert IMT in data["diagnosis"]["links"]
    assert "links" not in data["site"]
    table = page.split('data-table="diagnosis"', 1)[1].split("</table>", 1)[0]
    assert sorted(entity_links(table)) == sorted(data["diagnosis"]["links"])


def test_the_immunoprofile_summary_links_each_ranked_diagnosis(client, registry):
    page = client.get(reverse("curation:search"), {"profile": "ALK+ SMA+"}).content.decode()
    table = page.split('class="differential"', 1)[1].split("</table>", 1)[0]
    assert f'<a href="{IMT}">' in table


def test_every_diagnosis_of_the_vocabulary_has_a_link_that_opens_its_page(client, db):
    diagnoses = list(Diagnosis.objects.order_by("name"))
    assert len(diagnoses) > 50
    for dx in diagnoses:
        response = client.get(entity_url(dx))
        assert response.status_code == 200, dx.name
        assert response.context["diagnosis"] == dx
    assert entity_url("") == "" and entity_url(None) == ""
