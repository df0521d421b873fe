from django.urls import path

from citations import views

app_name = "citations"

urlpatterns = [
    path("", views.citation_list, name="list"),
    path("export/", views.citation_export, name="export"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job_retry"),
    path("<int:pmid>/", views.citation_detail, name="detail"),
]
