from django.urls import path

from curation.views import home

app_name = "curation"

urlpatterns = [
    path("", home.home, name="home"),
]
