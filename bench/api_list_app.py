"""The project's ASGI application plus one bare Django view: bench/api_list.py's baseline.

`/bare/videos?page=N` answers what `GET /api/videos?page=N` answers an anonymous caller —
the same 20 rows in the same JSON shape — from one `.values()` query and a `JsonResponse`:
no DRF, no serializers, no filter set, no paginator, no authentication classes. It is served
by the same server process, behind the same Django middleware, so the ratio between the two
is what the API's machinery costs.

    python -m videohost.server api_list_app:application -b 127.0.0.1 -p PORT
    (with bench/ on PYTHONPATH)
"""

# isort: off
# The application first: it sets Django up, which the models below need.
from videohost.asgi import application  # noqa: F401 - what the server serves
from django.conf import settings
from django.http import JsonResponse
from django.urls import path

import videohost.urls
from videos.models import AccessLevel, Video, VideoStatus

# isort: on

PAGE_SIZE = 20
COLUMNS = (
    "id",
    "title",
    "description",
    "duration",
    "access_level",
    "has_ads",
    "status",
    "view_count",
    "created_at",
    "thumbnail",
    "hls_playlist",
    "channel_id",
    "channel__title",
    "channel__owner_id",
    "channel__owner__username",
    "channel__owner__display_name",
    "channel__owner__avatar",
    "channel__owner__is_author",
)


def _timestamp(value) -> str:
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def video_dict(row: dict) -> dict:
    """A row as the API shows it to an anonymous caller (public videos are watchable)."""
    public = row["access_level"] == AccessLevel.PUBLIC
    stream = f"/api/videos/{row['id']}/stream"
    hls = f"/api/videos/{row['id']}/hls/master.m3u8" if row["hls_playlist"] else None
    return {
        "id": row["id"],
        "channel": {
            "id": row["channel_id"],
            "title": row["channel__title"],
            "owner": {
                "id": row["channel__owner_id"],
                "username": row["channel__owner__username"],
                "display_name": row["channel__owner__display_name"],
                "avatar_url": settings.MEDIA_URL + row["channel__owner__avatar"]
                if row["channel__owner__avatar"]
                else None,
                "is_author": row["channel__owner__is_author"],
            },
        },
        "title": row["title"],
        "description": row["description"],
        "duration": row["duration"],
        "access_level": row["access_level"],
        "has_ads": row["has_ads"],
        "status": row["status"],
        "view_count": row["view_count"],
        "created_at": _timestamp(row["created_at"]),
        "thumbnail_url": settings.MEDIA_URL + row["thumbnail"] if row["thumbnail"] else None,
        "can_watch": public,
        "show_ads": row["has_ads"] and public,
        "stream_url": stream if public else None,
        "hls_url": hls if public else None,
    }


def bare_videos(request):
    page = int(request.GET.get("page", "1"))
    listed = Video.objects.filter(status=VideoStatus.READY, is_hidden=False)
    rows = listed.order_by("-created_at", "-id").values(*COLUMNS)[
        (page - 1) * PAGE_SIZE : page * PAGE_SIZE
    ]
    count = listed.count()
    base = request.build_absolute_uri(request.path)
    return JsonResponse(
        {
            "count": count,
            "next": f"{base}?page={page + 1}" if page * PAGE_SIZE < count else None,
            "previous": f"{base}?page={page - 1}" if page > 1 else None,
            "results": [video_dict(row) for row in rows],
        }
    )


urlpatterns = [path("bare/videos", bare_videos), *videohost.urls.urlpatterns]
settings.ROOT_URLCONF = __name__
