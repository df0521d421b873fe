from django.apps import AppConfig

from accounts.roles import CURATOR, REVIEWER


class ScreeningConfig(AppConfig):
    name = "screening"
    verbose_name = "Screening"
    # Curators screen candidates; reviewers also keep the lists of exclusion
    # reasons and highlighted terms (accounts.roles grants these).
    role_permissions = {
        CURATOR: ["view_candidate", "add_screeningdecision", "view_screeningdecision"],
        REVIEWER: [
            "add_exclusionreason",
            "change_exclusionreason",
            "view_exclusionreason",
            "add_highlightterm",
            "change_highlightterm",
            "delete_highlightterm",
            "view_highlightterm",
        ],
    }

    def ready(self):
        from citations.hooks import add_citation_page_section, add_saved_search_listener
        from screening.actions import add_search_results
        from screening.views import references_section

        add_saved_search_listener(add_search_results)
        # A citation's page shows its references to screeners, with "send to screening".
        add_citation_page_section(references_section)
