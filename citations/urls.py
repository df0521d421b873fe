from django.urls import path

from citations import saved_search_views, views, watch_views

app_name = "citations"

urlpatterns = [
    path("", views.citation_list, name="list"),
    path("export/", views.citation_export, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("<int:pmid>/", views.citation_detail, name="detail"),
    path("saved-searches/", saved_search_views.saved_search_list, name="saved_searches"),
    path(
        "saved-searches/<int:pk>/", saved_search_views.saved_search_edit, name="saved_search_edit"
    ),
    path(
        "saved-searches/<int:pk>/enabled/",
        saved_search_views.saved_search_enabled,
        name="saved_search_enabled",
    ),
    path("<int:pmid>/links/", views.citation_chase, name="chase_links"),
    path("watch/", watch_views.watch, name="watch"),
    path("watch/run/", watch_views.watch_start, name="watch_start"),
]
