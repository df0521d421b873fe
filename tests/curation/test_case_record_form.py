"""The case form's record (issue 14): molecular findings, the clinical course, evidence grade,
source depth, differentials — saved through the form as a curator types them, refused by
the field with the typed text kept when they are impossible."""

import pytest

from curation.actions.submission import start_case
from curation.models import Case, CaseDraftInput
from tests.curation.curate_forms import case_post, edit_url, founding_case, log_in
from tests.factories import CitationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(curator):
    return start_case(CitationFactory(pmid=35560368), by=curator)


@pytest.fixture
def client_(client, curator):
    return log_in(client, curator)


def _save(client, draft, **kwargs):
    return client.post(edit_url(draft), case_post(draft, **kwargs))


def test_a_series_case_with_variant_course_and_grade_is_saved_as_typed(client_, draft):
    response = _save(
        client_,
        draft,
        molecular=[
            {
                "kind": "variant",
                "gene": "BRAF",
                "hgvs_protein": "V600E",
                "hgvs_cdna": "c.1799t>a",
                "transcript": "NM_004333.6",
                "method": "dna_panel",
                "assay": "targeted DNA sequencing panel",
            },
            {"kind": "copy_number", "gene": "CDKN2A", "copy_number": "homozygous_deletion"},
        ],
        treatments=[{"kind": "wide_local_excision", "margins": "negative"}],
        events=[{"kind": "local_recurrence", "months": "14"}],
        follow_up_months="30",
        outcome="ned",
        source_depth="full_text",
        differentials="melanoma; atypical fibroxanthoma",
        differentials_as_reported="melanoma, AFX, poorly differentiated carcinoma",
        **founding_case(),
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    variant, deletion = draft.molecular_findings.order_by("position")
    assert (variant.gene.symbol, variant.hgvs_protein, variant.hgvs_cdna) == (
        "BRAF",
        "p.Val600Glu",
        "c.1799T>A",
    )
    assert variant.display == "BRAF p.V600E"
    assert variant.assay == "targeted DNA sequencing panel"
    assert deletion.display == "CDKN2A homozygous deletion"
    assert draft.evidence_grade == "A"  # BRAF V600E by a DNA panel
    assert [e.display for e in draft.clinical_events.all()] == ["Local recurrence at 14 months"]
    assert [t.display for t in draft.treatments.all()] == ["Wide local excision, margins negative"]
    assert draft.source_depth == "full_text"
    assert sorted(d.name for d in draft.differentials.all()) == [
        "atypical fibroxanthoma",
        "melanoma",
    ]
    page = client_.get(edit_url(draft)).content.decode()
    assert 'value="p.Val600Glu"' in page and "Evidence grade now: <strong>A</strong>" in page


def test_hgvs_that_does_not_parse_is_explained_by_the_field_and_the_text_is_kept(client_, draft):
    response = _save(
        client_, draft, molecular=[{"kind": "variant", "gene": "BRAF", "hgvs_protein": "V600"}]
    )
    assert response.status_code == 422
    page = response.content.decode()
    assert "“V600” is not an HGVS protein change" in page
    assert 'value="V600"' in page  # what was typed stays in the form
    assert not draft.molecular_findings.exists()
    kept = CaseDraftInput.objects.get(case=draft)
    assert kept.data["molecular-0-hgvs_protein"] == ["V600"]


def test_an_exon_of_an_unknown_partner_is_refused(client_, draft):
    response = _save(
        client_, draft, fusions=[{"written": "ALK rearrangement", "five_prime_exon": "2"}]
    )
    assert response.status_code == 422
    assert (
        "partner is not known: its exon or transcript cannot be given" in response.content.decode()
    )
    assert not draft.fusions.exists()


def test_a_grade_above_what_the_findings_support_is_refused(client_, draft):
    response = _save(
        client_,
        draft,
        ihc=[{"marker": "ALK", "result": "positive"}],
        grade_lowered_to="A",
        grade_lowered_reason="sure of it",
    )
    assert response.status_code == 422
    assert "The findings support grade C at most" in response.content.decode()
    draft.refresh_from_db()
    assert (draft.evidence_grade, draft.grade_lowered_to) == ("C", "")


def test_a_curator_may_lower_the_grade_with_a_reason(client_, draft):
    _save(
        client_,
        draft,
        fusions=[{"written": "CARS-ALK", "method": "targeted_rna_panel"}],
        grade_lowered_to="C",
        grade_lowered_reason="The sequencing result is shown in no figure or table.",
    )
    draft.refresh_from_db()
    assert (draft.evidence_grade, draft.grade_lowered_to) == ("C", "C")
    no_reason = _save(
        client_,
        draft,
        fusions=[{"written": "CARS-ALK", "method": "targeted_rna_panel"}],
        grade_lowered_to="D",
    )
    assert "Say why the grade is lowered." in no_reason.content.decode()


@pytest.mark.parametrize(
    ("fields", "events", "message"),
    [
        (
            {"follow_up_months": "12", "outcome": "awd"},
            [{"kind": "local_recurrence", "months": "14"}],
            "Local recurrence at 14 months is after the last follow-up (12 months)",
        ),
        (
            {"follow_up_months": "40", "outcome": "dod"},
            [{"kind": "death_of_disease", "months": "30"}],
            "The last follow-up (40 months) is after the death at 30 months",
        ),
        (
            {"follow_up_months": "30", "outcome": "ned"},
            [{"kind": "death_of_disease", "months": "30"}],
            "the status at last follow-up cannot be alive",
        ),
        (
            {},
            [
                {"kind": "death_other_cause", "months": "8"},
                {"kind": "local_recurrence", "months": "9"},
            ],
            "Local recurrence at 9 months is after the death at 8 months",
        ),
    ],
)
def test_impossible_timelines_are_refused_with_a_message(client_, draft, fields, events, message):
    response = _save(client_, draft, events=events, **fields)
    assert response.status_code == 422
    assert message in response.content.decode()


def test_a_systemic_therapy_needs_its_agent(client_, draft):
    response = _save(client_, draft, treatments=[{"kind": "systemic"}])
    assert "Name the agent of the systemic therapy" in response.content.decode()
    ok = _save(
        client_, draft, treatments=[{"kind": "systemic", "agent": "crizotinib", "months": "3"}]
    )
    assert ok.status_code == 302
    assert draft.treatments.get().display == "Systemic therapy (crizotinib), at 3 months"


def test_a_differential_not_in_the_vocabulary_is_named_in_the_message(client_, draft):
    response = _save(client_, draft, differentials="melanoma; poorly differentiated carcinoma")
    assert (
        "Not in the diagnosis list: “poorly differentiated carcinoma”" in response.content.decode()
    )
    assert not draft.differentials.exists()


def test_a_form_posted_without_the_new_rows_leaves_them_as_saved(client_, draft, curator):
    _save(client_, draft, events=[{"kind": "local_recurrence", "months": "3"}])
    draft.refresh_from_db()
    data = case_post(draft, histology="Fascicles.")
    for name in [k for k in data if k.startswith("event-")]:
        del data[name]
    assert client_.post(edit_url(draft), data).status_code == 302
    assert draft.clinical_events.count() == 1
    assert Case.objects.get(pk=draft.pk).histology == "Fascicles."
