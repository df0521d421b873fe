"""manage.py attach_oa_figures: a paper's open-access figures from PMC, licence pre-filled."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from curation.models import Figure
from tests.factories import CaseFactory, CitationFactory
from tests.fake_pmc import make_package
from tests.figure_files import SVG_WITH_SCRIPT, jpeg, png, stored_files

pytestmark = pytest.mark.django_db

FIGURES = [
    ("F1", "Figure 1", "Clinical photograph of the scalp nodule.", "cup-fig-0001.jpg", jpeg()),
    ("F2", "Figure 2", "ALK, granular cytoplasmic staining.", "cup-fig-0002.png", png()),
]


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("attach_oa_figures", *map(str, args), stdout=out, stderr=err)
    return out.getvalue() + err.getvalue()


@pytest.fixture
def case(curator):
    return CaseFactory(created_by=curator, citation=CitationFactory(pmcid="PMC9000001"))


def test_the_figures_of_a_cc_by_paper_are_offered_with_their_captions(case, fake_pmc):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    out = run(case.pk)
    assert "F1\tFigure 1\tCC-BY-4.0\tClinical photograph of the scalp nodule." in out
    assert "F2\tFigure 2\tCC-BY-4.0\tALK, granular cytoplasmic staining." in out
    assert not Figure.objects.exists()


def test_a_chosen_figure_is_attached_with_caption_credit_and_licence(
    case, fake_pmc, figure_storage
):
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES))
    out = run(case.pk, "--figure", "F2")
    figure = Figure.objects.get()
    assert (figure.case, figure.panel_label, figure.licence) == (case, "2", "CC-BY-4.0")
    assert figure.caption == "ALK, granular cytoplasmic staining."
    assert figure.credit == "J Cutan Pathol. 2022 (PMC9000001)"
    assert "Figure 2 added to" in out


def test_a_licence_that_is_not_on_the_list_makes_the_figure_private(
    case, fake_pmc, figure_storage
):
    package = make_package(
        "PMC9000001", FIGURES, licence_url="https://example.org/publisher-terms"
    )
    fake_pmc.add("PMC9000001", package, licence="NO-CC CODE")
    run(case.pk, "--all")
    assert set(Figure.objects.values_list("licence", flat=True)) == {"NOASSERTION"}


def test_a_hostile_image_in_a_package_is_refused_and_the_others_attached(
    case, fake_pmc, figure_storage
):
    hostile = [*FIGURES, ("F3", "Figure 3", "Not a picture.", "cup-fig-0003.png", SVG_WITH_SCRIPT)]
    fake_pmc.add("PMC9000001", make_package("PMC9000001", hostile))
    with pytest.raises(CommandError, match="1 figure"):
        run(case.pk, "--all")
    assert sorted(Figure.objects.values_list("panel_label", flat=True)) == ["1", "2"]
    # The two originals (their copies come once committed); nothing of the SVG.
    stored = sorted(name.rsplit("/", 1)[1] for name in stored_files(figure_storage))
    assert stored == ["original.jpg", "original.png"]


def test_a_paper_outside_the_open_access_subset_is_said_so(curator, fake_pmc):
    case = CaseFactory(created_by=curator, citation=CitationFactory(pmcid="PMC1"))
    with pytest.raises(CommandError, match="not in PMC's open-access subset"):
        run(case.pk)


def test_a_paper_without_a_pmc_id_is_said_so(curator):
    case = CaseFactory(created_by=curator, citation=CitationFactory(pmcid=""))
    with pytest.raises(CommandError, match="has no PMC id"):
        run(case.pk)


def test_a_package_with_dot_dot_names_attaches_nothing(case, fake_pmc, figure_storage):
    import tarfile

    evil = tarfile.TarInfo("../../evil.jpg")
    evil.size = 3
    fake_pmc.add("PMC9000001", make_package("PMC9000001", FIGURES, extra=[(evil, b"abc")]))
    with pytest.raises(CommandError, match="outside itself"):
        run(case.pk, "--all")
    assert not Figure.objects.exists() and stored_files(figure_storage) == []
