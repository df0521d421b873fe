"""Writing case records through curation.actions.cases: create, edit, child rows."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from curation.actions.cases import (
    Conflict,
    NotEditable,
    add_fusion,
    add_ihc_result,
    create_case,
    replace_fusions,
    replace_ihc_results,
    resolve_fusion_text,
    update_case,
)
from curation.diff import version_changes
from curation.models import Case, FusionFinding, IHCResult
from curation.notation import NotationError
from tests.factories import (
    CitationFactory,
    diagnosis,
    gene,
    make_published_case,
    marker,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(curator):
    return create_case(
        citation=CitationFactory(), by=curator, label="Case 1", age=38, age_unit="years"
    )


def test_a_curator_creates_a_draft_at_version_1_with_history_by_them(curator):
    citation = CitationFactory()
    other = CitationFactory()
    case = create_case(
        citation=citation,
        by=curator,
        sex=Case.Sex.FEMALE,
        other_citations=[other],
        differentials=[diagnosis("dermatofibroma")],
    )
    assert (case.status, case.version, case.created_by) == ("draft", 1, curator)
    assert list(case.other_citations.all()) == [other]
    latest = case.history.latest()
    assert latest.history_user == curator
    # The M2M state is part of the snapshot.
    assert [c.citation_id for c in latest.other_citations.all()] == [other.pk]


def test_a_reader_without_a_role_cannot_create_a_case(reader):
    with pytest.raises(NotEditable, match="Only a curator"):
        create_case(citation=CitationFactory(), by=reader)


def test_invalid_values_are_refused_with_a_field_message_and_nothing_saved(curator):
    with pytest.raises(ValidationError) as excinfo:
        create_case(citation=CitationFactory(), by=curator, age=Decimal("-3"), age_unit="years")
    assert "age" in str(excinfo.value).lower()
    assert not Case.objects.exists()


def test_editing_bumps_the_version_and_the_history_shows_the_change(draft, curator):
    update_case(draft, by=curator, expected_version=1, site_detail="left posterior scalp")
    assert draft.version == 2
    assert draft.site_detail == "left posterior scalp"
    assert "site_detail" in {c.field for c in version_changes(draft, 1, 2)}


def test_a_stale_edit_is_refused_with_a_conflict_and_the_newer_text_survives(draft, curator):
    update_case(draft, by=curator, expected_version=1, treatment="Excision.")
    with pytest.raises(Conflict) as excinfo:
        update_case(draft, by=curator, expected_version=1, treatment="Mohs surgery.")
    assert "version 1" in str(excinfo.value) and "now version 2" in str(excinfo.value)
    draft.refresh_from_db()
    assert draft.treatment == "Excision."
    assert draft.version == 2


def test_only_the_author_edits_a_draft(draft, curator2):
    with pytest.raises(NotEditable, match="Only the curator who wrote"):
        update_case(draft, by=curator2, expected_version=1, notes="mine now")


def test_a_published_case_cannot_be_edited_in_place(curator):
    case = make_published_case(created_by=curator)
    with pytest.raises(NotEditable, match="propose a revision"):
        update_case(case, by=curator, expected_version=case.version, notes="x")


def test_workflow_fields_cannot_be_set_through_update(draft, curator):
    with pytest.raises(TypeError, match="status"):
        update_case(draft, by=curator, expected_version=1, status="published")


def test_adding_an_ihc_result_bumps_the_case_version(draft, curator):
    row = add_ihc_result(
        draft,
        by=curator,
        expected_version=1,
        marker=marker("ALK"),
        clone="5A4",
        result=IHCResult.Result.POSITIVE,
        intensity="strong",
        extent="diffuse",
    )
    assert row.summary == "positive, strong, diffuse"
    assert draft.version == 2
    with pytest.raises(Conflict):
        add_ihc_result(
            draft, by=curator, expected_version=1, marker=marker("SMA"), result="negative"
        )


def test_replacing_ihc_results_keeps_the_given_order_and_records_deletions(draft, curator):
    add_ihc_result(draft, by=curator, expected_version=1, marker=marker("CD34"), result="positive")
    rows = replace_ihc_results(
        draft,
        by=curator,
        expected_version=2,
        rows=[
            {"marker": marker("ALK"), "result": "positive"},
            {"marker": marker("SOX10"), "result": "negative"},
        ],
    )
    assert [r.marker.name for r in draft.ihc_results.order_by("position")] == ["ALK", "SOX10"]
    assert [r.position for r in rows] == [0, 1]
    assert IHCResult.history.filter(history_type="-", history_user=curator).count() == 1
    assert draft.version == 3


def test_an_invalid_ihc_row_changes_nothing(draft, curator):
    add_ihc_result(draft, by=curator, expected_version=1, marker=marker("CD34"), result="positive")
    with pytest.raises(ValidationError) as excinfo:
        replace_ihc_results(
            draft,
            by=curator,
            expected_version=2,
            rows=[{"marker": marker("ALK"), "result": "positive", "percent_cells": 140}],
        )
    assert "The percentage of cells is between 0 and 100." in excinfo.value.messages
    draft.refresh_from_db()
    assert [r.marker.name for r in draft.ihc_results.all()] == ["CD34"]
    assert draft.version == 2


def test_a_fusion_written_cars_alk_is_resolved_to_cars1_and_saved(draft, curator):
    resolved = resolve_fusion_text("CARS-ALK")
    assert resolved.resolved
    assert "previous symbol of CARS1" in resolved.messages[0]
    finding = add_fusion(
        draft,
        by=curator,
        expected_version=1,
        method=FusionFinding.Method.RNA_SEQ,
        **resolved.as_fields(),
    )
    assert (finding.notation, finding.as_reported) == ("CARS1::ALK", "CARS-ALK")


def test_an_unknown_fusion_partner_is_reported_not_guessed():
    resolved = resolve_fusion_text("FOO9-ALK")
    assert not resolved.resolved
    assert "FOO9 is not a known HGNC gene symbol" in resolved.messages[0]
    with pytest.raises(ValueError, match="resolve the partners first"):
        resolved.as_fields()


def test_a_malformed_fusion_raises_a_notation_error():
    with pytest.raises(NotationError):
        resolve_fusion_text("ALK::")


def test_replacing_fusions_allows_a_partner_unknown_rearrangement(draft, curator):
    replace_fusions(
        draft,
        by=curator,
        expected_version=1,
        rows=[
            {
                "five_prime_gene": None,
                "three_prime_gene": gene("ALK"),
                "method": FusionFinding.Method.FISH_BREAK_APART,
            }
        ],
    )
    assert draft.fusions.get().display == "ALK rearrangement (partner unknown)"


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_edits_of_the_same_version_one_wins_one_conflicts(postgres, curator):
    """Real row locks on PostgreSQL: two threads, two connections, one version."""
    import threading

    from django.db import connection

    case = create_case(citation=CitationFactory(), by=curator)
    barrier = threading.Barrier(2)
    outcomes = []

    def edit(text):
        try:
            barrier.wait(timeout=10)
            update_case(Case.objects.get(pk=case.pk), by=curator, expected_version=1, notes=text)
            outcomes.append(("saved", text))
        except Conflict:
            outcomes.append(("conflict", text))
        finally:
            connection.close()

    threads = [threading.Thread(target=edit, args=(t,)) for t in ("first", "second")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(kind for kind, _ in outcomes) == ["conflict", "saved"]
    case.refresh_from_db()
    winner = next(text for kind, text in outcomes if kind == "saved")
    assert (case.notes, case.version) == (winner, 2)


def test_a_second_case_with_the_same_label_gets_a_message_not_a_crash(curator):
    citation = CitationFactory()
    create_case(citation=citation, by=curator, label="Case 2")
    with pytest.raises(ValidationError) as excinfo:
        create_case(citation=citation, by=curator, label="Case 2")
    assert "This paper already has a case with this label." in excinfo.value.messages
    assert citation.cases.count() == 1


def test_follow_up_without_an_outcome_is_refused_by_the_action(draft, curator):
    with pytest.raises(ValidationError) as excinfo:
        update_case(draft, by=curator, expected_version=1, follow_up_months=Decimal("24"))
    assert excinfo.value.messages == [
        "Give the status at the last follow-up, or leave follow-up empty."
    ]
    draft.refresh_from_db()
    assert (draft.follow_up_months, draft.version) == (None, 1)
    update_case(
        draft, by=curator, expected_version=1, follow_up_months=Decimal("24"), outcome="ned"
    )
    assert draft.get_outcome_display() == "No evidence of disease"
