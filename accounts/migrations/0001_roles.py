from django.db import migrations

from accounts.roles import create_role_groups


class Migration(migrations.Migration):
    """The role groups (accounts.roles). Each app's migrations that add models
    give the groups those models' permissions (accounts.roles.sync_role_groups)."""

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_role_groups, migrations.RunPython.noop)]
