from django.urls import path

from curation.views import cases, home, review
from curation.views import genes, stats
from curation.views import search as search_views

app_name = "curation"

urlpatterns = [
    path("", home.home, name="home"),
    path("search/", search_views.search, name="search"),
    path("search/export/<str:fmt>/", search_views.export, name="export"),
    path("genes/<str:symbol>/", genes.gene, name="gene"),
    path("stats/", stats.stats, name="stats"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
    path("cases/<int:pk>/comment/", review.case_comment, name="case_comment"),
    path("cases/<int:pk>/revise/", review.case_revise, name="case_revise"),
    path("review/", review.review_queue, name="review_queue"),
    path("review/<int:pk>/", review.review_case, name="review_case"),
    path("activity/", review.activity, name="activity"),
    path("activity/export.csv", review.activity_csv, name="activity_csv"),
]
