"""The starting exclusion reasons and highlighted terms (screening/lists.py says where they come
from); the new models' permissions go to the role groups (accounts.roles)."""

from django.db import migrations

from accounts.roles import sync_role_groups
from screening.lists import seed_lists


def seed(apps, schema_editor):
    seed_lists(apps)


class Migration(migrations.Migration):
    dependencies = [("screening", "0001_screening")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(sync_role_groups, migrations.RunPython.noop),
    ]
