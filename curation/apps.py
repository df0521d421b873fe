from django.apps import AppConfig

from accounts.roles import CURATOR, REVIEWER


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"
    # What each role may do with cases and vocabularies (accounts.roles grants
    # these; a reviewer also gets all a curator does).
    role_permissions = {
        CURATOR: [
            "add_case",
            "change_case",
            "view_case",
            "add_ihcresult",
            "change_ihcresult",
            "delete_ihcresult",
            "add_fusionfinding",
            "change_fusionfinding",
            "delete_fusionfinding",
        ],
        REVIEWER: [
            "review_case",
            "add_diagnosis",
            "change_diagnosis",
            "view_diagnosis",
            "add_topography",
            "change_topography",
            "view_topography",
            "add_gene",
            "change_gene",
            "view_gene",
            "add_marker",
            "change_marker",
            "view_marker",
        ],
    }

    def ready(self):
        # Cached search counts and statistics follow every change to the registry.
        from curation.search import cache

        cache.connect()
