from django.apps import AppConfig

from accounts.roles import CURATOR, REVIEWER


class CitationsConfig(AppConfig):
    name = "citations"
    verbose_name = "Citations"
    # What each role may do with citations (accounts.roles grants these; a
    # reviewer also gets all a curator does).
    role_permissions = {
        CURATOR: ["add_citation", "view_citation", "add_fetchjob", "view_fetchjob"],
        REVIEWER: ["change_citation"],
    }

    def ready(self):
        from citations import counts

        counts.connect()
