"""The application's URLs plus the benchmark's baseline view (benchmark runs only)."""

from django.urls import include, path

from benchmarks.views import bench_baseline

urlpatterns = [
    path("bench/baseline/<int:pk>/", bench_baseline, name="bench_baseline"),
    path("", include("config.urls")),
]
