"""Missing terms proposed from the case form, kept as pending values, decided by a reviewer."""

import pytest
from django.urls import reverse

from curation.actions.proposals import ProposalRefused, accept_proposal, map_proposal
from curation.actions.submission import missing_for_submission, start_case, submit_case
from curation.models import Clone, Diagnosis, DiagnosisFamily, Gene, Marker, TermProposal
from tests.curation.curate_forms import case_post, edit_url, founding_case, log_in
from tests.factories import CitationFactory, diagnosis, marker

pytestmark = pytest.mark.django_db

NEW_DX = "plexiform xanthomatous tumor of unusual kind"


@pytest.fixture
def draft(curator):
    return start_case(CitationFactory(), by=curator)


def _post(client, draft, **kwargs):
    draft.refresh_from_db()
    return client.post(edit_url(draft), case_post(draft, **kwargs))


def test_an_unknown_diagnosis_offers_to_propose_it_in_the_form(client, curator, draft):
    log_in(client, curator)
    response = _post(client, draft, **founding_case(final_diagnosis=NEW_DX))
    assert response.status_code == 422
    page = response.content.decode()
    assert f"“{NEW_DX}” is not in the diagnosis list" in page
    assert f"Propose “{NEW_DX}” as a new diagnosis" in page
    assert 'name="final_diagnosis_propose"' in page
    assert not TermProposal.objects.exists()


def test_a_proposed_diagnosis_is_kept_as_the_cases_pending_value(client, curator, draft):
    log_in(client, curator)
    response = _post(
        client,
        draft,
        **founding_case(
            final_diagnosis=NEW_DX,
            final_diagnosis_propose="on",
            final_diagnosis_code="8830/1",
            final_diagnosis_source="https://example.org/paper",
        ),
        ihc=[{"marker": "ALK", "result": "positive"}],
    )
    assert response.status_code == 302
    (proposal,) = TermProposal.objects.all()
    assert (proposal.kind, proposal.field, proposal.text) == (
        "diagnosis",
        "final_diagnosis",
        NEW_DX,
    )
    assert (proposal.code, proposal.source_url) == ("8830/1", "https://example.org/paper")
    draft.refresh_from_db()
    assert draft.final_diagnosis is None
    # The pending diagnosis counts for the submission.
    assert "final_diagnosis" not in missing_for_submission(draft)
    page = client.get(edit_url(draft)).content.decode()
    assert f"Pending final diagnosis: <strong>{NEW_DX}</strong>" in page
    # Saving again does not propose it twice; choosing a listed diagnosis drops it.
    _post(client, draft, **founding_case(final_diagnosis="dermatofibroma"))
    assert not TermProposal.objects.exists()


def test_a_bad_code_in_a_proposal_is_refused_with_a_message(client, curator, draft):
    log_in(client, curator)
    response = _post(
        client,
        draft,
        **founding_case(
            final_diagnosis=NEW_DX, final_diagnosis_propose="on", final_diagnosis_code="8830/5"
        ),
    )
    assert response.status_code == 422
    assert "An ICD-O-3.2 code is written 8825/1" in response.content.decode()
    assert not TermProposal.objects.exists()


def test_a_reviewer_accepts_a_diagnosis_and_the_case_takes_it(client, curator, reviewer, draft):
    log_in(client, curator)
    _post(
        client,
        draft,
        **founding_case(final_diagnosis=NEW_DX, final_diagnosis_propose="on"),
        ihc=[{"marker": "ALK", "result": "positive"}],
    )
    draft.refresh_from_db()
    submit_case(draft, by=curator, expected_version=draft.version)
    proposal = TermProposal.objects.get()
    family = DiagnosisFamily.objects.get(name="Fibrohistiocytic tumours")
    client.force_login(reviewer)
    page = client.get(reverse("curation:review_case", args=[draft.pk])).content.decode()
    assert f"Diagnosis: “{NEW_DX}”" in page
    response = client.post(
        reverse("curation:term_decide", args=[proposal.pk]),
        {"decision": "accept", "name": NEW_DX, "code": "", "family": family.pk},
    )
    assert response.status_code == 302
    new = Diagnosis.objects.get(name=NEW_DX)
    assert new.family == family and "Proposed by carla_curator" in new.source
    draft.refresh_from_db()
    assert draft.final_diagnosis == new
    proposal.refresh_from_db()
    assert (proposal.status, proposal.decided_by) == ("accepted", reviewer)
    assert draft.history.first().history_user == reviewer


def test_an_ihc_row_with_a_proposed_marker_is_recorded_when_mapped(
    client, curator, reviewer, draft
):
    log_in(client, curator)
    _post(
        client,
        draft,
        **founding_case(),
        ihc=[
            {"marker": "ALK", "result": "positive"},
            {
                "marker": "Anti-ALK-foo",
                "marker_propose": "on",
                "result": "positive",
                "intensity": "strong",
                "pattern": "nuclear",
            },
        ],
    )
    draft.refresh_from_db()
    assert [r.marker.name for r in draft.ihc_results.all()] == ["ALK"]
    proposal = TermProposal.objects.get()
    assert proposal.row["result"] == "positive" and proposal.row["pattern"] == "nuclear"
    map_proposal(proposal, by=reviewer, term=marker("SOX10"))
    rows = {r.marker.name: r for r in draft.ihc_results.all()}
    assert rows["SOX10"].result == "positive" and rows["SOX10"].pattern == "nuclear"


def test_an_unknown_clone_is_kept_as_other_and_can_be_proposed(client, curator, reviewer, draft):
    log_in(client, curator)
    response = _post(
        client,
        draft,
        **founding_case(),
        ihc=[{"marker": "ALK", "result": "positive", "clone": "XYZ-9"}],
    )
    assert response.status_code == 302
    result = draft.ihc_results.get()
    assert (result.clone, result.clone_term) == ("XYZ-9", None)  # "other": kept as typed
    _post(
        client,
        draft,
        **founding_case(),
        ihc=[{"marker": "ALK", "result": "positive", "clone": "d5f3"}],
    )
    result = draft.ihc_results.get()
    assert (result.clone, result.clone_term.name) == ("D5F3", "D5F3")  # the controlled list
    _post(
        client,
        draft,
        **founding_case(),
        ihc=[{"marker": "ALK", "result": "positive", "clone": "XYZ-9", "clone_propose": "on"}],
    )
    proposal = TermProposal.objects.get(kind="clone")
    assert proposal.marker == marker("ALK")
    accept_proposal(proposal, by=reviewer)
    clone = Clone.objects.get(marker=marker("ALK"), name="XYZ-9")
    assert draft.ihc_results.get().clone_term == clone


def test_a_fusion_with_a_proposed_gene_is_recorded_once_accepted(client, curator, reviewer, draft):
    log_in(client, curator)
    response = _post(client, draft, **founding_case(), fusions=[{"written": "FOOB9-ALK"}])
    assert response.status_code == 422
    assert "Propose “FOOB9” as a new gene" in response.content.decode()
    response = _post(
        client,
        draft,
        **founding_case(),
        fusions=[{"written": "FOOB9-ALK", "gene_propose": "on", "gene_code": "HGNC:99990"}],
    )
    assert response.status_code == 302
    assert not draft.fusions.exists()
    proposal = TermProposal.objects.get(kind="gene")
    assert (proposal.field, proposal.text, proposal.code) == ("fusion_five", "FOOB9", "HGNC:99990")
    accept_proposal(proposal, by=reviewer)
    gene = Gene.objects.get(hgnc_id="HGNC:99990")
    assert gene.symbol == "FOOB9"
    (fusion,) = draft.fusions.all()
    assert (fusion.notation, fusion.as_reported) == ("FOOB9::ALK", "FOOB9-ALK")


def test_only_a_reviewer_decides_and_only_once(client, curator, reviewer, draft):
    log_in(client, curator)
    _post(client, draft, **founding_case(final_diagnosis=NEW_DX, final_diagnosis_propose="on"))
    proposal = TermProposal.objects.get()
    with pytest.raises(ProposalRefused, match="Only a reviewer"):
        map_proposal(proposal, by=curator, term=diagnosis("dermatofibroma"))
    response = client.post(
        reverse("curation:term_decide", args=[proposal.pk]), {"decision": "map", "term": "DF"}
    )
    assert response.status_code == 403
    map_proposal(proposal, by=reviewer, term=diagnosis("dermatofibroma"))
    with pytest.raises(ProposalRefused, match="already"):
        map_proposal(proposal, by=reviewer, term=diagnosis("dermatofibroma"))
    draft.refresh_from_db()
    assert draft.final_diagnosis == diagnosis("dermatofibroma")


def test_mapping_to_a_term_that_does_not_exist_changes_nothing(client, curator, reviewer, draft):
    log_in(client, curator)
    _post(client, draft, **founding_case(final_diagnosis=NEW_DX, final_diagnosis_propose="on"))
    proposal = TermProposal.objects.get()
    client.force_login(reviewer)
    response = client.post(
        reverse("curation:term_decide", args=[proposal.pk]),
        {"decision": "map", "term": "no such thing"},
        follow=True,
    )
    assert "is not a diagnosis in the vocabulary" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.status == "pending"


def test_the_term_queue_lists_pending_proposals_for_reviewers(client, curator, reviewer, draft):
    log_in(client, curator)
    _post(client, draft, **founding_case(final_diagnosis=NEW_DX, final_diagnosis_propose="on"))
    assert client.get(reverse("curation:term_queue")).status_code == 403
    client.force_login(reviewer)
    page = client.get(reverse("curation:term_queue")).content.decode()
    assert "1 proposal waiting" in page and NEW_DX in page


def test_a_withdrawn_proposal_is_gone(client, curator, draft):
    log_in(client, curator)
    _post(client, draft, **founding_case(final_diagnosis=NEW_DX, final_diagnosis_propose="on"))
    proposal = TermProposal.objects.get()
    draft.refresh_from_db()
    data = case_post(draft, **founding_case())
    data["withdraw_proposal"] = str(proposal.pk)
    client.post(edit_url(draft), data)
    assert not TermProposal.objects.exists()
    assert Marker.objects.filter(name="ALK").exists()


def test_a_reviewer_does_not_decide_on_their_own_proposal(reviewer, reviewer2):
    case = start_case(CitationFactory(), by=reviewer)
    proposal = TermProposal.objects.create(
        case=case, proposed_by=reviewer, kind="diagnosis", field="final_diagnosis", text="x y z"
    )
    with pytest.raises(ProposalRefused, match="not on their own proposal"):
        map_proposal(proposal, by=reviewer, term=diagnosis("dermatofibroma"))
    map_proposal(proposal, by=reviewer2, term=diagnosis("dermatofibroma"))
    case.refresh_from_db()
    assert case.final_diagnosis == diagnosis("dermatofibroma")


def test_a_case_with_pending_terms_is_not_published_until_they_are_decided(
    client, curator, reviewer, draft
):
    from curation.actions.review import TransitionError, approve_case

    log_in(client, curator)
    _post(
        client,
        draft,
        **founding_case(final_diagnosis=NEW_DX, final_diagnosis_propose="on"),
        ihc=[{"marker": "ALK", "result": "positive"}],
    )
    draft.refresh_from_db()
    submit_case(draft, by=curator, expected_version=draft.version)
    with pytest.raises(TransitionError, match="1 proposed term waiting"):
        approve_case(draft, reviewer)
    map_proposal(TermProposal.objects.get(), by=reviewer, term=diagnosis("dermatofibroma"))
    published = approve_case(draft, reviewer)
    assert published.status == "published" and published.final_diagnosis.name == "dermatofibroma"
