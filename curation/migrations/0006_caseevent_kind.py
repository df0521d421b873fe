"""A comment is its own kind of CaseEvent (it was spelled "from_status == to_status")."""

from django.conf import settings
from django.db import migrations, models


def mark_comments(apps, schema_editor):
    CaseEvent = apps.get_model("curation", "CaseEvent")
    CaseEvent.objects.filter(from_status=models.F("to_status")).update(kind="comment")


class Migration(migrations.Migration):
    dependencies = [
        ("curation", "0005_constraint_messages"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="caseevent",
            name="kind",
            field=models.CharField(
                choices=[("transition", "Status change"), ("comment", "Comment")],
                default="transition",
                max_length=10,
            ),
        ),
        migrations.RunPython(mark_comments, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="caseevent",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("from_status", models.F("to_status")), ("kind", "comment")),
                    models.Q(
                        ("kind", "transition"),
                        models.Q(("from_status", models.F("to_status")), _negated=True),
                    ),
                    _connector="OR",
                ),
                name="curation_caseevent_kind_matches_statuses",
                violation_error_message="A comment keeps the case's status; a transition changes it.",
            ),
        ),
    ]
