"""A citation's page: what PubMed says, links, exports, and the cases that cite it."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from citations.models import Citation

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "entrez"
pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded(capsys):
    call_command("import_pubmed_xml", *sorted(str(p) for p in FIXTURES.glob("pubmed*.xml")))
    capsys.readouterr()


def page(client, pmid) -> str:
    response = client.get(reverse("citations:detail", args=[pmid]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_founding_paper_page_shows_its_citation(client, recorded):
    html = page(client, 35560368)
    assert "Cutaneous inflammatory myofibroblastic tumor with CARS-ALK fusion" in html
    assert "Kasey J McCollum" in html
    assert "et al." in html and "lists the authors incompletely" in html
    assert "<i>J Cutan Pathol</i>." in html
    assert "2022;49(9):795-801." in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/35560368/"' in html
    assert 'href="https://doi.org/10.1111/cup.14261"' in html
    assert "inflammatory myofibroblastic tumor</span>" in html  # a keyword tag
    for fmt in ("json", "csl-json", "ris", "bibtex", "csv", "ama"):
        assert f"?format={fmt}&amp;pmid=35560368" in html
    assert "McCollum KJ, et al. Cutaneous inflammatory" in html  # the AMA reference


def test_section_labels_mesh_pmc_and_orcid_are_shown(client, recorded):
    html = page(client, 27797938)
    assert "<strong>Objective:</strong>" in html
    assert "<strong>Adenocarcinoma</strong> / <strong>epidemiology*</strong>" not in html
    assert "Adenocarcinoma / <strong>epidemiology*</strong>" in html
    assert 'href="https://www.ncbi.nlm.nih.gov/pmc/articles/PMC5442267/"' in html
    html = page(client, 29963580)
    assert 'href="https://orcid.org/0000-0002-4590-7461"' in html
    assert "Canadian Respiratory Research Network" in html


def test_a_retracted_article_says_so_first(client, recorded):
    Citation.objects.filter(pmid=35560368).update(retracted=True)
    assert "Retracted publication." in page(client, 35560368)


def test_hostile_text_from_pubmed_is_never_run(client):
    Citation.objects.create(
        pmid=7,
        title="<i>ok</i>",
        journal_iso="<script>alert(1)</script>",
        abstract=[{"label": "<b>x</b>", "category": "", "text": "fine"}],
        keywords=["<img src=x onerror=alert(1)>"],
    )
    html = page(client, 7)
    assert "<script>alert(1)</script>" not in html
    assert "<img src=x" not in html
    assert "<i>ok</i>" in html


def test_an_unknown_pmid_is_404(client):
    assert client.get(reverse("citations:detail", args=[1])).status_code == 404
    assert client.get("/citations/abc/").status_code == 404


def test_apps_above_add_sections_at_the_end_of_the_page(client, recorded, monkeypatch):
    """citations knows no case: curation adds "Cases that cite it" through this hook."""
    from django.utils.html import format_html

    from citations import hooks

    def section(request, citation):
        return format_html("<section id='extra'>About PMID {}</section>", citation.pmid)

    monkeypatch.setattr(hooks, "citation_page_sections", [])
    hooks.add_citation_page_section(section)
    hooks.add_citation_page_section(section)  # registered once
    html = page(client, 29963580)
    assert html.count("<section id='extra'>About PMID 29963580</section>") == 1
    assert html.index("id='extra'") > html.index('id="cite-title"')


def test_the_page_has_a_fixed_query_budget(client, recorded, django_assert_max_num_queries):
    # citation, authors, cases citing it (anonymous: no session or user queries)
    with django_assert_max_num_queries(3):
        page(client, 29963580)
