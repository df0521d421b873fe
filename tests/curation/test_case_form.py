"""The case form: structured entry, genes resolved on the spot, hostile input, conflicts."""

import json

import pytest
from django.urls import reverse

from curation.actions.submission import start_case
from curation.models import Case, Gene
from tests.curation.curate_forms import case_post, edit_url, founding_case, log_in
from tests.factories import CitationFactory, make_published_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(curator):
    return start_case(CitationFactory(pmid=35560368), by=curator)


@pytest.fixture
def client_(client, curator):
    return log_in(client, curator)


def _save(client, draft, **kwargs):
    return client.post(edit_url(draft), case_post(draft, **kwargs))


def test_the_form_shows_the_abstract_beside_it_and_vocabulary_suggestions(client_, draft):
    draft.citation.abstract = [{"label": "", "category": "", "text": "A 38-year-old woman."}]
    draft.citation.save()
    page = client_.get(edit_url(draft)).content.decode()
    assert "A 38-year-old woman." in page
    assert '<datalist id="diagnosis-options">' in page
    assert 'value="inflammatory myofibroblastic tumor (8825/1)"' in page
    assert 'value="C44.4 Skin of scalp and neck"' in page
    assert 'list="marker-options"' in page


def test_the_form_page_has_a_fixed_query_budget(client_, draft, django_assert_max_num_queries):
    _save(
        client_,
        draft,
        ihc=[{"marker": m, "result": "positive"} for m in ("ALK", "SMA", "CD34", "SOX10")],
        fusions=[{"written": "CARS-ALK"}, {"written": "TPM3::ROS1"}],
        **founding_case(),
    )
    # One query per kind of row (IHC, fusions, other molecular findings, treatments,
    # events) and one for the differentials, whatever the number of rows.
    with django_assert_max_num_queries(20):
        assert client_.get(edit_url(draft)).status_code == 200


def test_saving_the_founding_case_stores_fields_rows_and_the_resolved_fusion(
    client_, draft, curator
):
    response = _save(
        client_,
        draft,
        ihc=[{"marker": "ALK", "result": "positive", "clone": "D5F3", "percent_cells": "90"}],
        fusions=[{"written": "CARS-ALK", "method": "rna_seq"}],
        **founding_case(),
    )
    assert response.status_code == 302
    assert response["Location"] == edit_url(draft)
    draft.refresh_from_db()
    assert draft.age == 38 and draft.sex == "female"
    assert draft.topography.code == "C44.4"
    assert draft.final_diagnosis.name == "inflammatory myofibroblastic tumor"
    (ihc,) = draft.ihc_results.all()
    assert (ihc.marker.name, ihc.result, ihc.clone, ihc.percent_cells) == (
        "ALK",
        "positive",
        "D5F3",
        90,
    )
    (fusion,) = draft.fusions.all()
    assert fusion.notation == "CARS1::ALK"
    assert fusion.as_reported == "CARS-ALK"
    assert draft.history.latest().history_user == curator
    page = client_.get(edit_url(draft)).content.decode()
    assert "Saved (version" in page
    assert "Recorded as <strong data-notation>CARS1::ALK</strong>" in page


def test_a_synonym_or_a_code_finds_the_vocabulary_term(client_, draft):
    _save(client_, draft, final_diagnosis="IMT", topography="c44.4")
    draft.refresh_from_db()
    assert draft.final_diagnosis.icdo3_code == "8825/1"
    assert draft.topography.code == "C44.4"


def test_a_term_not_in_the_vocabulary_is_refused_next_to_the_field(client_, draft):
    response = _save(client_, draft, final_diagnosis="tumour of unknown kind")
    assert response.status_code == 422
    page = response.content.decode()
    assert "“tumour of unknown kind” is not in the diagnosis list" in page
    draft.refresh_from_db()
    assert draft.final_diagnosis is None  # the rest of the form is saved, not this


def test_a_gene_symbol_is_resolved_on_the_spot_while_typing(client_):
    url = reverse("curation:fusion_resolve")
    page = client_.get(
        url, {"prefix": "fusion-0", "fusion-0-written": "CARS-ALK"}
    ).content.decode()
    assert "CARS → <strong>CARS1</strong>" in page
    assert "previous symbol" in page
    assert "Recorded as <strong data-notation>CARS1::ALK</strong>" in page


def test_an_unknown_gene_is_reported_and_nothing_is_saved(client_, draft):
    response = _save(client_, draft, fusions=[{"written": "FOOBAR1-ALK"}])
    assert response.status_code == 422
    assert "FOOBAR1 is not a known HGNC gene symbol" in response.content.decode()
    assert not draft.fusions.exists()


@pytest.fixture
def ambiguous():
    """Two genes sharing the alias AMB1: the curator must choose."""
    first = Gene.objects.create(hgnc_id="HGNC:990001", symbol="GENEA", alias_symbols=["AMB1"])
    second = Gene.objects.create(hgnc_id="HGNC:990002", symbol="GENEB", alias_symbols=["AMB1"])
    return first, second


def test_an_ambiguous_symbol_is_offered_as_a_choice(client_, draft, ambiguous):
    _first, second = ambiguous
    response = _save(client_, draft, fusions=[{"written": "AMB1-ALK"}])
    assert response.status_code == 422
    page = response.content.decode()
    assert "AMB1 is an alias of several genes (GENEA, GENEB)" in page
    assert f'name="fusion-0-five_prime_choice" value="{second.pk}"' in page
    assert not draft.fusions.exists()

    _save(client_, draft, fusions=[{"written": "AMB1-ALK", "five_prime_choice": second.pk}])
    (fusion,) = draft.fusions.all()
    assert fusion.notation == "GENEB::ALK"
    assert fusion.as_reported == "AMB1-ALK"


def test_a_forged_gene_choice_outside_the_candidates_is_refused(client_, draft, ambiguous):
    alk = Gene.objects.get(symbol="ALK")
    response = _save(
        client_, draft, fusions=[{"written": "AMB1-ROS1", "five_prime_choice": alk.pk}]
    )
    assert response.status_code == 422
    assert not draft.fusions.exists()


def test_rows_are_added_and_removed(client_, draft):
    _save(
        client_,
        draft,
        ihc=[{"marker": "ALK", "result": "positive"}, {"marker": "SMA", "result": "negative"}],
    )
    assert [r.marker.name for r in draft.ihc_results.order_by("position")] == ["ALK", "SMA"]
    draft.refresh_from_db()
    _save(
        client_,
        draft,
        ihc=[
            {"marker": "ALK", "result": "positive", "DELETE": "on"},
            {"marker": "SMA", "result": "negative"},
            {"marker": "", "result": ""},  # an added row left blank is ignored
        ],
    )
    assert [r.marker.name for r in draft.ihc_results.all()] == ["SMA"]


def test_an_ihc_row_without_marker_or_result_says_so(client_, draft):
    response = _save(client_, draft, ihc=[{"clone": "D5F3"}])
    page = response.content.decode()
    assert "Choose the marker of this row" in page
    assert "Choose the result" in page


# -- hostile input ----------------------------------------------------------------------


def test_a_100_kb_text_is_refused_with_a_message_and_kept_in_the_form(client_, draft):
    blob = "spindle cells " * 7400  # ~100 KB
    response = _save(client_, draft, histology=blob, treatment="excision")
    assert response.status_code == 422
    page = response.content.decode()
    assert "At most 20,000 characters here" in page
    assert blob in page  # what was typed is not lost
    draft.refresh_from_db()
    assert draft.histology == "" and draft.treatment == "excision"  # the valid rest is saved
    assert blob in client_.get(edit_url(draft)).content.decode()  # and kept in the draft


def test_html_and_script_are_stored_as_text_and_shown_escaped(client_, draft):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    _save(client_, draft, histology=hostile, label="<b>Case</b> 1", site_detail=hostile[:200])
    draft.refresh_from_db()
    assert draft.histology == hostile and draft.label == "<b>Case</b> 1"
    page = client_.get(edit_url(draft)).content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "<b>Case</b>" not in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("age", "-3", "An age cannot be negative."),
        ("age", "500", "An age of 500 years is not plausible"),
        ("age", "1e400", "That number is too large."),
        ("age", "NaN", "Enter a number"),
        ("age", "99999999999", "That number is too large."),
        ("size_mm", "-1", "A size cannot be negative."),
        ("size_mm", "123456", "is the unit right?"),
        ("follow_up_months", "-2", "A follow-up cannot be negative."),
        ("follow_up_months", "5000", "At most 1,200 months"),
    ],
)
def test_negative_and_absurd_numbers_are_refused_next_to_the_field(
    client_, draft, field, value, message
):
    response = _save(client_, draft, **{field: value, "outcome": "ned"})
    assert response.status_code == 422
    page = response.content.decode()
    assert message in page
    assert f'data-field="{field}"' in page
    draft.refresh_from_db()
    assert getattr(draft, field) is None  # not saved; the valid rest of the form is


def test_a_percentage_over_100_is_refused(client_, draft):
    response = _save(
        client_, draft, ihc=[{"marker": "ALK", "result": "positive", "percent_cells": "150"}]
    )
    assert response.status_code == 422
    assert not draft.ihc_results.exists()


def test_an_age_without_unit_and_a_follow_up_without_outcome_are_explained(client_, draft):
    page = _save(client_, draft, age="38", age_unit="", follow_up_months="12").content.decode()
    assert "Say whether the age is in years, months, weeks or days." in page
    assert "Give the status at the last follow-up." in page


def test_a_forged_choice_value_is_refused(client_, draft):
    response = _save(client_, draft, sex="robot")
    assert response.status_code == 422
    assert "Select a valid choice" in response.content.decode()


# -- conflicts and ownership ------------------------------------------------------------


def test_a_stale_form_shows_both_versions_and_overwrites_nothing(client_, draft, curator):
    _save(client_, draft, histology="Version A, saved in another tab.")
    draft.refresh_from_db()
    assert draft.version == 2
    response = client_.post(edit_url(draft), case_post(draft, version=1, histology="Version B."))
    assert response.status_code == 409
    page = response.content.decode()
    assert "this case changed while you were editing it" in page
    assert "Version A, saved in another tab." in page  # theirs
    assert "Version B." in page  # mine, still in the form
    (histology,) = [c for c in response.context["conflict"]["rows"] if c.field == "histology"]
    assert (histology.before, histology.after) == (
        "Version A, saved in another tab.",
        "Version B.",
    )
    row = page[page.index(f">{histology.label}</th>") :].split("</tr>")[0]
    assert row.index("Version B.") < row.index("Version A, saved")  # yours first, as headed
    draft.refresh_from_db()
    assert draft.histology == "Version A, saved in another tab."

    # The curator looked at both and keeps theirs: the explicit override saves.
    data = case_post(draft, version=1, histology="Version B.")
    data["version_override"] = "2"
    client_.post(edit_url(draft), data)
    draft.refresh_from_db()
    assert draft.histology == "Version B." and draft.version == 3


def test_another_curators_draft_is_not_found(client, curator2, draft):
    log_in(client, curator2)
    assert client.get(edit_url(draft)).status_code == 404
    assert client.post(edit_url(draft), case_post(draft, histology="mine now")).status_code == 404
    autosave = reverse("curation:case_autosave", args=[draft.pk])
    assert client.post(autosave, case_post(draft, histology="x")).status_code == 404
    draft.refresh_from_db()
    assert draft.histology == ""


def test_a_reviewer_cannot_edit_a_curators_draft_either(client, reviewer, draft):
    log_in(client, reviewer)
    assert client.get(edit_url(draft)).status_code == 404


def test_a_published_case_of_ones_own_is_read_only(client_, curator):
    case = make_published_case(created_by=curator)
    response = client_.get(edit_url(case))
    assert response.status_code == 302
    assert response["Location"] == reverse("curation:case_detail", args=[case.pk])


# -- autocomplete -------------------------------------------------------------------------


def test_autocomplete_finds_a_diagnosis_by_synonym(client_):
    url = reverse("curation:autocomplete", args=["diagnosis"])
    page = client_.get(url, {"final_diagnosis": "IMT"}, headers={"HX-Request": "true"})
    assert 'value="inflammatory myofibroblastic tumor (8825/1)"' in page.content.decode()
    answer = client_.get(url, {"q": "myofibro", "format": "json"}).json()
    labels = [r["label"] for r in answer["results"]]
    assert "inflammatory myofibroblastic tumor (8825/1)" in labels


def test_autocomplete_of_markers_and_sites(client_):
    markers = client_.get(
        reverse("curation:autocomplete", args=["marker"]),
        {"q": "smooth muscle actin", "format": "json"},
    ).json()
    assert [r["label"] for r in markers["results"]] == ["SMA"]
    sites = client_.get(
        reverse("curation:autocomplete", args=["topography"]), {"q": "scalp", "format": "json"}
    ).json()
    assert sites["results"][0]["label"].startswith("C44.4")


def test_autocomplete_of_an_unknown_vocabulary_is_not_found(client_):
    assert (
        client_.get(reverse("curation:autocomplete", args=["users"]), {"q": "a"}).status_code
        == 404
    )


def test_autocomplete_escapes_what_it_echoes_and_has_a_query_budget(
    client_, django_assert_max_num_queries
):
    url = reverse("curation:autocomplete", args=["diagnosis"])
    with django_assert_max_num_queries(4):
        response = client_.get(url, {"q": "<script>" * 100})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode()


# -- autosave -------------------------------------------------------------------------------


def test_autosave_saves_and_returns_the_new_version(client_, draft):
    url = reverse("curation:case_autosave", args=[draft.pk])
    answer = client_.post(url, case_post(draft, histology="Typed, not yet saved.")).json()
    assert answer["status"] == "saved"
    draft.refresh_from_db()
    assert draft.histology == "Typed, not yet saved."
    assert answer["version"] == draft.version
    again = client_.post(url, case_post(draft, histology="Typed, not yet saved.")).json()
    assert again["status"] == "unchanged"
    draft.refresh_from_db()
    assert draft.version == answer["version"]  # nothing written when nothing changed


def test_autosave_saves_the_valid_fields_and_keeps_the_invalid_text(client_, draft):
    url = reverse("curation:case_autosave", args=[draft.pk])
    answer = client_.post(url, case_post(draft, age="-1", histology="kept")).json()
    assert answer["status"] == "partial"
    assert "Age: An age cannot be negative." in answer["message"]
    draft.refresh_from_db()
    assert draft.histology == "kept" and draft.age is None
    assert answer["version"] == draft.version
    # A reload (or a browser crash) shows the text still to correct, with its message.
    page = client_.get(edit_url(draft)).content.decode()
    assert "Not everything you typed is saved yet" in page
    assert 'name="age" value="-1"' in page
    assert "An age cannot be negative." in page
    # Once corrected, everything is saved and the kept text is forgotten.
    fixed = client_.post(url, case_post(draft, age="38", histology="kept")).json()
    assert fixed["status"] == "saved"
    page = client_.get(edit_url(draft)).content.decode()
    assert "Not everything you typed is saved yet" not in page
    assert 'name="age" value="38"' in page


def test_autosave_keeps_the_valid_rows_and_the_text_of_the_invalid_one(client_, draft):
    url = reverse("curation:case_autosave", args=[draft.pk])
    rows = [
        {"marker": "ALK", "result": "positive"},
        {"marker": "SMA", "result": "positive", "percent_cells": "most"},
        {"marker": "CD34", "result": "negative"},
    ]
    answer = client_.post(url, case_post(draft, ihc=rows, fusions=[{"written": "CARS-ALK"}]))
    answer = answer.json()
    assert answer["status"] == "partial"
    assert "IHC result row 2 (% cells): Enter a whole number from 0 to 100." in answer["message"]
    assert [r.marker.name for r in draft.ihc_results.order_by("position")] == ["ALK", "CD34"]
    assert [f.notation for f in draft.fusions.all()] == ["CARS1::ALK"]
    page = client_.get(edit_url(draft)).content.decode()
    assert 'name="ihc-1-percent_cells" value="most"' in page
    assert 'name="ihc-1-marker" value="SMA"' in page


def test_an_explicit_save_with_an_error_saves_the_rest_and_keeps_the_text(client_, draft):
    response = _save(client_, draft, histology="saved", size_mm="huge")
    assert response.status_code == 422
    assert "Saved what is valid" in response.content.decode()
    draft.refresh_from_db()
    assert draft.histology == "saved"
    page = client_.get(edit_url(draft)).content.decode()
    assert 'name="size_mm" value="huge"' in page
    assert "Size (mm): Enter a number, e.g. 38 or 2.5." in page


def test_autosave_of_a_stale_form_is_a_conflict(client_, draft):
    url = reverse("curation:case_autosave", args=[draft.pk])
    client_.post(url, case_post(draft, histology="first"))
    response = client_.post(url, case_post(draft, version=1, histology="second"))
    assert response.status_code == 409
    assert json.loads(response.content)["status"] == "conflict"
    draft.refresh_from_db()
    assert draft.histology == "first"


def test_a_post_without_a_version_saves_nothing(client_, draft):
    data = case_post(draft, histology="x")
    data["version"] = "not a number"
    assert client_.post(edit_url(draft), data).status_code == 400
    assert Case.objects.get(pk=draft.pk).histology == ""


def test_a_forged_row_count_is_refused_not_obeyed(client_, draft):
    data = case_post(draft, ihc=[{"marker": "ALK", "result": "positive"}])
    data["ihc-TOTAL_FORMS"] = "50000"
    response = client_.post(edit_url(draft), data)
    assert response.status_code == 422
    assert "Please submit at most 100 forms." in response.content.decode()
    assert not draft.ihc_results.exists()
