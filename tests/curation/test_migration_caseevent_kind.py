"""Migration curation 0006: comments written before it become events of kind "comment"."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

# citations goes back too: its later migrations add NOT NULL columns (0004's
# notices) that the historical Citation model here does not know about.
BEFORE = [("curation", "0005_constraint_messages"), ("citations", "0003_saved_searches")]
AFTER = [("curation", "0006_caseevent_kind")]


@pytest.mark.django_db(transaction=True)
def test_existing_comments_become_comment_events_and_transitions_stay(curator, reviewer):
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Citation = old.get_model("citations", "Citation")
    Case = old.get_model("curation", "Case")
    CaseEvent = old.get_model("curation", "CaseEvent")
    citation = Citation.objects.create(pmid=424242, title="T")
    case = Case.objects.create(citation=citation, created_by_id=curator.pk, status="submitted")
    CaseEvent.objects.create(
        case=case, actor_id=curator.pk, from_status="draft", to_status="submitted"
    )
    CaseEvent.objects.create(
        case=case,
        actor_id=reviewer.pk,
        from_status="submitted",
        to_status="submitted",
        comment="?",
    )

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    kinds = list(
        new.get_model("curation", "CaseEvent")
        .objects.filter(case_id=case.pk)
        .order_by("pk")
        .values_list("kind", "to_status")
    )
    assert kinds == [("transition", "submitted"), ("comment", "submitted")]

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
