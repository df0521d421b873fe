"""Formerly loaded the vocabularies; now a no-op.

The loader needs the WHO hierarchy, clone and version tables added by 0007,
so the vocabularies are loaded (and earlier shipped errors corrected) by
0008_load_who_vocabularies, on fresh and on already loaded databases alike.
Kept so that the migration graph of existing databases is unchanged.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("curation", "0002_cases_and_vocabularies")]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
