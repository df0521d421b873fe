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
            "add_clone",
            "change_clone",
            "view_clone",
            "add_diagnosiscategory",
            "change_diagnosiscategory",
            "view_diagnosiscategory",
            "add_diagnosisfamily",
            "change_diagnosisfamily",
            "view_diagnosisfamily",
            "view_vocabularyversion",
        ],
    }

    def ready(self):
        from citations.hooks import add_citation_page_section
        from curation.search import cache
        from curation.views.cases import citing_cases_section

        # Cached search counts and statistics follow every change to the registry.
        cache.connect()
        # A citation's page lists the published cases that cite it.
        add_citation_page_section(citing_cases_section)
        # The retraction watch re-fetches what cases cite, and tells who curated and
        # reviewed a case whose paper was retracted.
        from citations.hooks import add_citation_change_listener, add_cited_citations
        from curation.retractions import cited_by_cases, tell_about_retractions

        add_cited_citations(cited_by_cases)
        add_citation_change_listener(tell_about_retractions)
        # The PRISMA counts end with the cases curated from the papers screening included.
        from curation.views.to_curate import included_case_counts
        from screening.hooks import add_included_counter

        add_included_counter(included_case_counts)
