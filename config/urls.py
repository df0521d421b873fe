from django.contrib import admin
from django.http import HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from config.health import healthz
from curation.search import api as search_api
from curation.search import api_v1


def favicon(request):
    """Browsers and bots ask for /favicon.ico whatever the page says: the site's icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/v1/", include(api_v1.router.urls)),
    path("api/", include(search_api.router.urls)),
    path("citations/", include("citations.urls")),
    path("screening/", include("screening.urls")),
    path("", include("curation.urls")),
]

handler403 = "config.errors.forbidden"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"

admin.site.site_header = "RareDerm administration"
admin.site.site_title = "RareDerm"
