"""Issue 11 item 1: a script typed into a citation in the admin never reaches a page.

Titles and abstracts are cleaned on every write (Citation.save, the admin's
too) by the sanitiser PubMed's text goes through, and printed through one
filter (`inline_html`) that cleans again, so a row written past `save` is
harmless as well. PubMed's inline markup (<i> <sup> ...) survives both.
"""

import json

import pytest
from django.urls import reverse

from citations.models import Citation
from curation import workflow
from curation.actions.cases import transition
from tests.factories import CaseFactory, CitationFactory, make_published_case
from tests.security.forms import form_data

pytestmark = pytest.mark.django_db

TITLE = '<script>alert("title")</script>Spindle cell <i>ALK</i>-positive tumour'
ABSTRACT_TEXT = '<img src=x onerror=alert("abstract")>A 5 mm<sup>2</sup> nodule<svg onload=x()>'


def _pages(citation, curator, reviewer, client):
    """Every page that prints the title or abstract, fetched as a role that may see it."""
    submitted = CaseFactory(citation=citation, created_by=curator)
    transition(submitted, workflow.SUBMITTED, curator)
    published = make_published_case(created_by=curator)
    published.other_citations.add(citation)
    pages = {}
    client.force_login(curator)
    pages["citation list"] = client.get(reverse("citations:list"))
    pages["citation detail"] = client.get(reverse("citations:detail", args=[citation.pmid]))
    pages["curator report"] = client.get(reverse("curation:report", args=[citation.pmid]))
    pages["case detail"] = client.get(reverse("curation:case_detail", args=[published.pk]))
    client.force_login(reviewer)
    pages["review page"] = client.get(reverse("curation:review_case", args=[submitted.pk]))
    for name, response in pages.items():
        assert response.status_code == 200, name
    return {name: response.content.decode() for name, response in pages.items()}


def _assert_harmless(pages, expect_abstract=True):
    for name, html in pages.items():
        for bad in ("<script>alert", "onerror=", "<img src=x", "<svg", "onload="):
            assert bad not in html, f"{bad!r} printed as markup on the {name}"
    # The markup PubMed uses survives, as markup.
    assert "Spindle cell <i>ALK</i>-positive tumour" in pages["citation detail"]
    assert "Spindle cell <i>ALK</i>-positive tumour" in pages["review page"]
    if expect_abstract:
        assert "A 5 mm<sup>2</sup> nodule" in pages["citation detail"]


def test_a_script_saved_in_the_citation_admin_is_cleaned_and_never_printed(
    client, admin, curator, reviewer
):
    citation = CitationFactory(title="A plain title", abstract=[])
    client.force_login(admin)
    url = reverse("admin:citations_citation_change", args=[citation.pk])
    data = form_data(client.get(url).content.decode(), "citation_form")
    data["title"] = TITLE
    data["abstract"] = json.dumps([{"label": "CASE", "text": ABSTRACT_TEXT}])
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]

    citation.refresh_from_db()
    assert "<script" not in citation.title and "alert" not in citation.title
    assert citation.title == "Spindle cell <i>ALK</i>-positive tumour"
    assert citation.abstract[0]["text"] == "A 5 mm<sup>2</sup> nodule"
    _assert_harmless(_pages(citation, curator, reviewer, client))


def test_a_row_written_past_save_is_cleaned_again_when_printed(client, curator, reviewer):
    citation = CitationFactory()
    # A queryset update (or raw SQL) skips Citation.save: the filter still cleans.
    Citation.objects.filter(pk=citation.pk).update(
        title=TITLE, abstract=[{"label": "CASE", "text": ABSTRACT_TEXT}]
    )
    citation.refresh_from_db()
    assert "<script>" in citation.title
    _assert_harmless(_pages(citation, curator, reviewer, client))


def test_pubmed_markup_and_plain_text_survive_a_save_unchanged():
    title = "Cutaneous CD34<sup>+</sup> tumour &amp; <i>NTRK1</i> &lt;rare&gt;"
    citation = CitationFactory(title=title, abstract=[{"label": "", "text": "a &lt; b"}])
    citation.refresh_from_db()
    assert citation.title == title
    assert citation.abstract == [{"label": "", "text": "a &lt; b"}]
