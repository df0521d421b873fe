from django.db import migrations

from accounts.roles import sync_role_groups


class Migration(migrations.Migration):
    """The role groups, before accounts/ held them (accounts.0001_roles creates
    them now). Kept, and still run on a new database, because databases that
    applied it also applied migrations that depend on it."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(sync_role_groups, migrations.RunPython.noop)]
