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
]
