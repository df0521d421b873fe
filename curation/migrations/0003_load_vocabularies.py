"""Load the shipped vocabularies from curation/vocabularies/*.json.

Safe to run on a database that already has some of them (rows are matched
by their natural key and updated); reversing leaves the rows in place, since
cases may point at them.
"""

from django.db import migrations

from curation.vocabularies import load_vocabularies


class Migration(migrations.Migration):
    dependencies = [("curation", "0002_cases_and_vocabularies")]

    operations = [migrations.RunPython(load_vocabularies, migrations.RunPython.noop)]
