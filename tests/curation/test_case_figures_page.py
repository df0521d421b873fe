"""The curator's figures page (/curate/cases/<id>/figures/), the gallery and the review diff."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from curation.actions.figures import attach_figure
from curation.actions.review import start_revision
from curation.models import Case, Figure
from tests.factories import CaseFactory, FigureFactory, make_published_case
from tests.figure_files import SVG_WITH_SCRIPT, jpeg, png, stored_files

pytestmark = pytest.mark.django_db


def _url(case):
    return reverse("curation:case_figures", args=[case.pk])


def _post(client, case, data, name="figure.png", **fields):
    form = {"caption": "Spindle cells", "licence": "CC-BY-4.0", **fields}
    form["file"] = SimpleUploadedFile(name, data)
    return client.post(_url(case), form)


def test_a_curator_uploads_a_figure_to_a_draft(client, curator, figure_storage):
    case = CaseFactory(created_by=curator)
    client.force_login(curator)
    response = _post(
        client, case, jpeg(), stain="ALK", magnification="\u00d7400", panel_label="3C"
    )
    assert response.status_code == 302
    figure = Figure.objects.get()
    assert (figure.case, figure.panel_label, figure.magnification) == (case, "3C", 400)
    page = client.get(_url(case)).content.decode()
    assert "Figure 3C" in page and "ALK (IHC)" in page and "CC BY 4.0" in page


def test_a_refused_file_is_named_by_the_file_field_and_nothing_is_stored(
    client, curator, figure_storage
):
    case = CaseFactory(created_by=curator)
    client.force_login(curator)
    response = _post(client, case, SVG_WITH_SCRIPT, name="figure.svg", stain="no such stain")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "SVG" in errors["file"][0]
    assert "neither H&E nor a marker" in errors["stain"][0]
    assert not Figure.objects.exists() and stored_files(figure_storage) == []
    # What was typed stays in the form.
    assert response.context["form"]["caption"].value() == "Spindle cells"


def test_on_a_published_case_the_upload_goes_into_the_curators_revision(
    client, curator, curator2, figure_storage
):
    published = make_published_case(created_by=curator)
    client.force_login(curator2)
    response = _post(client, published, png())
    revision = Case.objects.get(revision_of=published)
    assert response.status_code == 302 and response["Location"] == _url(revision)
    assert revision.figures.count() == 1 and not published.figures.exists()


def test_another_curators_draft_is_not_theirs_to_change(client, curator, curator2):
    case = CaseFactory(created_by=curator)
    client.force_login(curator2)
    assert client.get(_url(case)).status_code == 404


def test_a_reader_may_not_add_figures(client, reader):
    client.force_login(reader)
    assert client.get(_url(make_published_case())).status_code == 403


def test_a_curator_removes_a_figure_from_a_draft(client, curator, figure_storage):
    case = CaseFactory(created_by=curator)
    figure = attach_figure(case, by=curator, data=png(), caption="c", licence="CC0-1.0")
    client.force_login(curator)
    response = client.post(reverse("curation:figure_remove", args=[figure.pk]))
    assert response.status_code == 302 and not case.figures.exists()


def test_the_public_gallery_shows_licensed_figures_with_caption_credit_and_badge(
    client, curator, figure_storage, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator)
    with django_capture_on_commit_callbacks(execute=True):
        attach_figure(
            case,
            by=curator,
            data=png(),
            caption="ALK granular cytoplasmic staining",
            licence="CC-BY-NC-4.0",
            stain="ALK",
            credit="Smith et al. 2022",
            panel_label="2B",
        )
        attach_figure(
            case, by=curator, data=jpeg(), caption="Secret figure", licence="NOASSERTION"
        )
    Case.objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    page = client.get(reverse("curation:case_detail", args=[case.pk])).content.decode()
    assert "ALK granular cytoplasmic staining" in page and "Smith et al. 2022" in page
    assert 'href="https://creativecommons.org/licenses/by-nc/4.0/"' in page
    assert "CC BY-NC 4.0" in page
    assert "Secret figure" not in page
    shown = Figure.objects.get(caption__startswith="ALK")
    assert reverse("curation:figure_file", args=[shown.pk, "thumbnail"]) in page
    assert reverse("curation:figure_file", args=[shown.pk, "webp"]) in page


def test_the_review_diff_shows_added_and_removed_figures(
    client, curator, curator2, reviewer, figure_storage
):
    published = make_published_case(created_by=curator)
    kept = FigureFactory(
        case=published,
        caption="Old H&E",
        licence="CC-BY-4.0",
        created_by=curator,
    )
    gone = FigureFactory(
        case=published,
        caption="Blurry panel",
        licence="CC-BY-4.0",
        created_by=curator,
        panel_label="1C",
    )
    revision = start_revision(published, curator2)
    revision.figures.filter(sha256=gone.sha256).delete()
    attach_figure(
        revision,
        by=curator2,
        data=png(),
        caption="New ALK stain",
        licence="CC0-1.0",
        panel_label="2A",
    )
    revision.figures.filter(sha256=kept.sha256).update(caption="Better H&E caption")
    from curation.diff import revision_changes

    changes = {c.label: c for c in revision_changes(revision)["figures"]}
    assert changes["Figure 2A"].kind == "added" and "New ALK stain" in changes["Figure 2A"].after
    assert changes["Figure 1C"].kind == "removed" and "Blurry panel" in changes["Figure 1C"].before
    assert changes["Figure"].kind == "changed" and "Better H&E caption" in changes["Figure"].after
    Case.objects.filter(pk=revision.pk).update(status="submitted")
    client.force_login(reviewer)
    page = client.get(reverse("curation:review_case", args=[revision.pk])).content.decode()
    assert page.count('data-diff="figure"') == 3


def test_a_curator_sets_the_licence_of_a_private_figure(client, curator, figure_storage):
    case = CaseFactory(created_by=curator)
    figure = attach_figure(case, by=curator, data=png(), caption="c", licence="NOASSERTION")
    client.force_login(curator)
    url = reverse("curation:figure_edit", args=[figure.pk])
    form = client.get(url).context["form"]
    assert form["licence"].value() == "NOASSERTION" and form["caption"].value() == "c"
    response = client.post(
        url, {"caption": "Better caption", "licence": "CC-BY-NC-4.0", "stain": "S100"}
    )
    assert response.status_code == 302
    figure.refresh_from_db()
    assert (figure.caption, figure.licence, figure.stain_display) == (
        "Better caption",
        "CC-BY-NC-4.0",
        "S100 (IHC)",
    )
    case.refresh_from_db()
    assert case.version == 3  # the edit is a change of the case


def test_an_edit_with_errors_keeps_the_figure_as_it_was(client, curator, figure_storage):
    figure = attach_figure(
        CaseFactory(created_by=curator), by=curator, data=png(), caption="c", licence="CC0-1.0"
    )
    client.force_login(curator)
    response = client.post(
        reverse("curation:figure_edit", args=[figure.pk]),
        {"caption": "", "licence": "LicenseRef-publisher-permission", "magnification": "big"},
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert set(errors) == {"caption", "magnification", "permission_reference"}
    figure.refresh_from_db()
    assert (figure.caption, figure.licence) == ("c", "CC0-1.0")


def test_a_published_cases_figure_is_changed_through_a_revision_only(
    client, curator, figure_storage
):
    case = CaseFactory(created_by=curator)
    figure = attach_figure(case, by=curator, data=png(), caption="c", licence="CC0-1.0")
    Case.objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    client.force_login(curator)
    response = client.post(
        reverse("curation:figure_edit", args=[figure.pk]), {"caption": "x", "licence": "CC0-1.0"}
    )
    assert response.status_code == 400
    assert "propose a revision" in response.context["form"].non_field_errors()[0]
    figure.refresh_from_db()
    assert figure.caption == "c"


def test_the_gene_page_shows_figures_of_its_fusion_cases_its_own_stain_first(
    client, curator, figure_storage, django_capture_on_commit_callbacks
):
    case = CaseFactory(created_by=curator, fusions=["CARS1::ALK"])
    with django_capture_on_commit_callbacks(execute=True):
        attach_figure(
            case,
            by=curator,
            data=png(),
            caption="Spindle cells, H&E",
            licence="CC-BY-4.0",
            stain="H&E",
        )
        attach_figure(
            case,
            by=curator,
            data=jpeg(),
            caption="ALK, granular",
            licence="CC-BY-4.0",
            stain="ALK",
        )
        attach_figure(
            case, by=curator, data=jpeg(seed=9), caption="Unlicensed", licence="NOASSERTION"
        )
    Case.objects.filter(pk=case.pk).update(status="published", published_at=case.created_at)
    draft = CaseFactory(created_by=curator, fusions=["CARS1::ALK"])
    with django_capture_on_commit_callbacks(execute=True):
        attach_figure(draft, by=curator, data=png(seed=5), caption="A draft's", licence="CC0-1.0")
    page = client.get(reverse("curation:gene", args=["ALK"])).content.decode()
    assert page.index("ALK, granular") < page.index("Spindle cells, H&amp;E")
    assert "Unlicensed" not in page and "A draft&#x27;s" not in page
    assert reverse("curation:case_detail", args=[case.pk]) in page
    assert (
        "Figures of cases with"
        not in client.get(reverse("curation:gene", args=["ROS1"])).content.decode()
    )
