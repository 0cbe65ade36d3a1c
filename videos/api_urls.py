from django.urls import re_path

from videohost.api.routers import OptionalSlashRouter
from videos.api_views import VideoViewSet
from videos.media_views import VideoHlsView, VideoSpriteView, VideoStreamView

router = OptionalSlashRouter()
router.register("videos", VideoViewSet, basename="api-video")

urlpatterns = [
    re_path(r"^videos/(?P<pk>\d+)/stream/?$", VideoStreamView.as_view(), name="api-video-stream"),
    re_path(r"^videos/(?P<pk>\d+)/sprite/?$", VideoSpriteView.as_view(), name="api-video-sprite"),
    re_path(
        r"^videos/(?P<pk>\d+)/hls/(?P<path>[^?#]+)$", VideoHlsView.as_view(), name="api-video-hls"
    ),
    *router.urls,
]
