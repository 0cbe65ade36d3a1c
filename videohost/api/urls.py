from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from videohost.api.views import unknown_api_path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("channels_app.api_urls")),
    path("", include("videos.api_urls")),
    path("", include("rooms.api_urls")),
    path("", include("uploads.api_urls")),
    re_path(r"^schema/?$", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view keeps Swagger UI's script in a file, so the strict CSP holds on /api/docs.
    re_path(
        r"^docs/?$", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"
    ),
    re_path(r"^.*$", unknown_api_path),
]
