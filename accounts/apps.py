from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Roles, users and logging in: the layer below citations and curation.

    It knows no case and no citation: each app declares on its own AppConfig
    which of its permissions each role gets (`role_permissions`, read by
    accounts.roles.role_permissions).
    """

    name = "accounts"
    verbose_name = "Accounts"
