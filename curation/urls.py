from django.urls import path

from curation.views import (
    bulk_import,
    cases,
    curate,
    figures,
    genes,
    home,
    new_report,
    releases,
    review,
    stats,
    terms,
)
from curation.views import search as search_views

app_name = "curation"

urlpatterns = [
    path("", home.home, name="home"),
    path("search/", search_views.search, name="search"),
    path("search/export/<str:fmt>/", search_views.export, name="export"),
    path("genes/<str:symbol>/", genes.gene, name="gene"),
    path("stats/", stats.stats, name="stats"),
    path("releases/", releases.release_list, name="release_list"),
    path("releases/<str:name>/<str:file>", releases.release_file, name="release_file"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("figures/<int:pk>/zoom/", figures.figure_zoom, name="figure_zoom"),
    path("figures/<int:pk>/zoom.dzi", figures.figure_dzi, name="figure_dzi"),
    path(
        "figures/<int:pk>/zoom_files/<int:level>/<int:column>_<int:row>.jpg",
        figures.figure_tile,
        name="figure_tile",
    ),
    path("figures/<int:pk>/<str:kind>/", figures.figure_file, name="figure_file"),
    path("cases/<int:pk>/comment/", review.case_comment, name="case_comment"),
    path("cases/<int:pk>/revise/", review.case_revise, name="case_revise"),
    path("review/", review.review_queue, name="review_queue"),
    path("review/<int:pk>/", review.review_case, name="review_case"),
    path("review/terms/", terms.term_queue, name="term_queue"),
    path("review/terms/<int:pk>/", terms.term_decide, name="term_decide"),
    path("activity/", review.activity, name="activity"),
    path("activity/export.csv", review.activity_csv, name="activity_csv"),
    # The curator workflow (curation/views/new_report.py, curate.py, bulk_import.py).
    path("curate/new/", new_report.new_report, name="new_report"),
    path("curate/fetch/<int:pk>/", new_report.report_fetch, name="report_fetch"),
    path("curate/fetch/<int:pk>/retry/", new_report.report_fetch_retry, name="report_fetch_retry"),
    path("curate/reports/<int:pmid>/", curate.report, name="report"),
    path("curate/reports/<int:pmid>/cases/new/", curate.case_new, name="case_new"),
    path("curate/cases/<int:pk>/", curate.case_edit, name="case_edit"),
    path("curate/cases/<int:pk>/autosave/", curate.case_autosave, name="case_autosave"),
    path("curate/cases/<int:pk>/link/", curate.case_link_report, name="case_link_report"),
    path(
        "curate/reports/<int:pmid>/same-patient/",
        curate.report_same_patient_view,
        name="report_same_patient",
    ),
    path("curate/cases/<int:pk>/discard/", curate.case_discard, name="case_discard"),
    path("curate/cases/<int:pk>/figures/", figures.case_figures, name="case_figures"),
    path(
        "curate/cases/<int:pk>/figures/open-access/",
        figures.open_access_fetch,
        name="open_access_fetch",
    ),
    path(
        "curate/cases/<int:pk>/figures/open-access/<int:figure_pk>/",
        figures.open_access_attach,
        name="open_access_attach",
    ),
    path("curate/figures/<int:pk>/edit/", figures.figure_edit, name="figure_edit"),
    path("curate/figures/<int:pk>/remove/", figures.figure_remove, name="figure_remove"),
    path("curate/drafts/", curate.my_drafts, name="my_drafts"),
    path("curate/autocomplete/<str:vocabulary>/", curate.autocomplete, name="autocomplete"),
    path("curate/fusion/", curate.fusion_resolve, name="fusion_resolve"),
    path("curate/bulk/", bulk_import.bulk_import, name="bulk_import"),
    path("curate/bulk/<int:pk>/", bulk_import.bulk_job, name="bulk_job"),
    path("curate/bulk/<int:pk>/retry/", bulk_import.bulk_retry, name="bulk_retry"),
]
