from django.urls import path

from screening import views

app_name = "screening"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("<int:pk>/decide/", views.decide, name="decide"),
    path("suggest/", views.suggest, name="suggest"),
    path("prisma/", views.prisma, name="prisma"),
    path("prisma.svg", views.prisma_svg, name="prisma_svg"),
    path("references/<int:pmid>/", views.chase, name="chase"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("searches/", views.dual_searches, name="dual_searches"),
    path("searches/<int:pk>/dual/", views.dual_set, name="dual_set"),
    path("searches/<int:pk>/curators/", views.search_curators, name="search_curators"),
    path("digest/", views.digest, name="digest"),
    path("digest/stop/<str:token>/", views.digest_stop, name="digest_stop"),
]
