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
        from citations.hooks import add_saved_search_listener
        from screening.actions import add_search_results

        add_saved_search_listener(add_search_results)
