from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from videohost import health
from videohost.media import serve_public_media

admin.site.site_header = "VideoHost moderation"
admin.site.site_title = "VideoHost moderation"
admin.site.index_title = "Moderation"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("videohost.api.urls")),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("accounts/", include("accounts.urls")),
    path("", include("channels_app.urls")),
    path("", include("rooms.urls")),
    path("", include("videos.urls")),
]

if settings.SERVE_PUBLIC_MEDIA:
    # Only the public root (thumbnails, avatars, ads); originals have no URL at all.
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", serve_public_media, name="public-media"))

handler400 = "videohost.site_errors.bad_request"
handler403 = "videohost.site_errors.permission_denied"
handler404 = "videohost.site_errors.not_found"
handler500 = "videohost.site_errors.server_error"
