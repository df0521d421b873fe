from django.urls import path

from curation.views import cases, home

app_name = "curation"

urlpatterns = [
    path("", home.home, name="home"),
    path("cases/<int:pk>/", cases.case_detail, name="case_detail"),
]
