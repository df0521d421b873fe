"""Reviewers edit the vocabularies 0007 added: clones, WHO categories and families."""

from django.db import migrations

from accounts.roles import sync_role_groups


class Migration(migrations.Migration):
    dependencies = [("curation", "0008_load_who_vocabularies")]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
