"""Migrations curation 0015-0016: existing cases move into the new record without loss."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# citations goes back too: its later migrations add NOT NULL columns (0004's
# notices) that the historical Citation model here does not know about.
BEFORE = [("curation", "0014_open_access_figures"), ("citations", "0003_saved_searches")]
AFTER = [("curation", "0016_case_record_data")]


@pytest.mark.django_db(transaction=True)
def test_outcomes_become_events_fusions_get_partner_status_and_cases_a_grade(curator):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Citation = old.get_model("citations", "Citation")
    Case = old.get_model("curation", "Case")
    Gene = old.get_model("curation", "Gene")
    Marker = old.get_model("curation", "Marker")
    citation = Citation.objects.create(pmid=424243, title="T")
    alk = Gene.objects.get(symbol="ALK")
    cars1 = Gene.objects.get(symbol="CARS1")

    def case(label, **fields):
        return Case.objects.create(
            citation=citation, label=label, created_by_id=curator.pk, **fields
        )

    sequenced = case("Case 1", follow_up_months=Decimal(14), outcome="recurrence")
    sequenced.fusions.create(three_prime_gene=alk, five_prime_gene=cars1, method="rna_seq")
    fished = case("Case 2", follow_up_months=Decimal(30), outcome="metastasis")
    fished.fusions.create(three_prime_gene=alk, method="fish_break_apart", five_prime_exon="2")
    stained = case("Case 3", follow_up_months=Decimal(6), outcome="ned")
    stained.ihc_results.create(marker=Marker.objects.get(name="ALK"), result="positive")
    bare = case("Case 4")

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    Case = new.get_model("curation", "Case")
    FusionFinding = new.get_model("curation", "FusionFinding")
    ClinicalEvent = new.get_model("curation", "ClinicalEvent")

    grades = dict(Case.objects.values_list("label", "evidence_grade"))
    assert grades == {"Case 1": "A", "Case 2": "B", "Case 3": "C", "Case 4": "D"}
    events = {
        e.case.label: (e.kind, e.months) for e in ClinicalEvent.objects.select_related("case")
    }
    assert events == {"Case 1": ("local_recurrence", None), "Case 2": ("metastasis", None)}
    statuses = dict(Case.objects.values_list("label", "outcome"))
    # A recurrence said nothing of the status at the end: left for the curator, not guessed.
    assert statuses == {"Case 1": "", "Case 2": "", "Case 3": "ned", "Case 4": ""}
    assert Case.objects.get(pk=sequenced.pk).follow_up_months == Decimal(14)
    unknown = FusionFinding.objects.get(case_id=fished.pk)
    assert unknown.partner_status == "unknown"
    assert unknown.five_prime_exon == ""
    assert "5' exon 2" in unknown.breakpoint
    assert FusionFinding.objects.get(case_id=sequenced.pk).partner_status == "known"
    assert bare.pk

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
