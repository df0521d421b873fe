"""The figures page offers the paper's PMC open-access figures: fetched by a task,
attached with caption, credit and licence pre-filled."""

import tarfile

import pytest
from django.urls import reverse

from curation.models import Figure, OpenAccessPackage
from tests.factories import CaseFactory, CitationFactory
from tests.fake_pmc import make_package
from tests.figure_files import jpeg, png

pytestmark = pytest.mark.django_db

FIGURES = [
    ("F1", "Figure 1", "Clinical photograph of the scalp nodule.", "cup-fig-0001.jpg", jpeg()),
    ("F2", "Figure 2", "ALK, granular cytoplasmic staining.", "cup-fig-0002.png", png()),
]


@pytest.fixture
def case(curator):
    return CaseFactory(created_by=curator, citation=CitationFactory(pmcid="PMC9000001"))


def _fetch(client, case, callbacks):
    with callbacks(execute=True):
        response = client.post(reverse("curation:open_access_fetch", args=[case.pk]))
    assert response.status_code == 302
    return client.get(reverse("curation:case_figures", args=[case.pk]))


def test_a_cc_by_papers_figures_are_offered_with_captions_and_attached(
    client, curator, case, fake_pmc, figure_storage, django_capture_on_commit_callbacks
):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    client.force_login(curator)
    page = _fetch(client, case, django_capture_on_commit_callbacks).content.decode()
    assert 'data-state="done"' in page and "<strong>CC-BY-4.0</strong>" in page
    assert "Clinical photograph of the scalp nodule." in page
    assert "ALK, granular cytoplasmic staining." in page
    offered = OpenAccessPackage.objects.get().figures.get(fig_id="F2")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("curation:open_access_attach", args=[case.pk, offered.pk]), follow=True
        )
    assert "Figure 2 was added as Figure 2" in response.content.decode()
    figure = Figure.objects.get()
    assert (figure.case, figure.licence, figure.panel_label) == (case, "CC-BY-4.0", "2")
    assert figure.caption == "ALK, granular cytoplasmic staining."
    assert figure.credit == "J Cutan Pathol. 2022 (PMC9000001)"
    assert figure.derivatives_ready


def test_a_paper_outside_the_subset_is_said_so_on_the_page(
    client, curator, fake_pmc, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator, citation=CitationFactory(pmcid="PMC1"))
    client.force_login(curator)
    page = _fetch(client, case, django_capture_on_commit_callbacks).content.decode()
    assert 'data-state="failed"' in page and "not in PMC&#x27;s open-access subset" in page


def test_a_package_with_dot_dot_names_offers_nothing(
    client, curator, case, fake_pmc, figure_storage, django_capture_on_commit_callbacks
):
    evil = tarfile.TarInfo("../../evil.jpg")
    evil.size = 3
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES, extra=[(evil, b"abc")]))
    client.force_login(curator)
    page = _fetch(client, case, django_capture_on_commit_callbacks).content.decode()
    assert "outside itself" in page
    assert not OpenAccessPackage.objects.get().figures.exists()
    assert not figure_storage.exists()


def test_another_papers_figure_cannot_be_attached(
    client, curator, case, fake_pmc, figure_storage, django_capture_on_commit_callbacks
):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    client.force_login(curator)
    _fetch(client, case, django_capture_on_commit_callbacks)
    offered = OpenAccessPackage.objects.get().figures.first()
    other = CaseFactory(created_by=curator)
    url = reverse("curation:open_access_attach", args=[other.pk, offered.pk])
    assert client.post(url).status_code == 404
    assert not Figure.objects.exists()


def test_a_paper_without_a_pmc_id_shows_no_open_access_section(client, curator):
    case = CaseFactory(created_by=curator, citation=CitationFactory(pmcid=""))
    client.force_login(curator)
    page = client.get(reverse("curation:case_figures", args=[case.pk])).content.decode()
    assert "Open-access figures" not in page


def test_pmc_down_is_said_on_the_page_and_a_second_fetch_works(
    client, curator, case, fake_pmc, figure_storage, settings, django_capture_on_commit_callbacks
):
    settings.ENTREZ_MAX_TRIES = 2
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    fake_pmc.inject(503)
    fake_pmc.inject(503)
    client.force_login(curator)
    page = _fetch(client, case, django_capture_on_commit_callbacks).content.decode()
    assert "PMC had a server error (HTTP 503) (after 2 tries)" in page
    page = _fetch(client, case, django_capture_on_commit_callbacks).content.decode()
    assert 'data-state="done"' in page and "Clinical photograph" in page


def test_a_fault_of_ours_is_recorded_not_left_waiting(
    client, curator, case, monkeypatch, django_capture_on_commit_callbacks
):
    from curation import open_access

    def broken(citation):
        raise RuntimeError("a bug")

    monkeypatch.setattr(open_access, "open_access_figures", broken)
    client.force_login(curator)
    page = _fetch(client, case, django_capture_on_commit_callbacks).content.decode()
    assert "The fetch stopped (RuntimeError)" in page
    assert OpenAccessPackage.objects.get().state == "failed"
