"""How an access-checked private file reaches the caller, by `MEDIA_DELIVERY`.

- `django` (the embedded default): this process streams it, with single-range support.
- `nginx`: an `X-Accel-Redirect` to nginx's internal location (deploy/nginx), which sends the
  bytes (ranges, sendfile) from the private media folder after Django said yes. The yes carries
  `X-Accel-Expires: MEDIA_CHECK_REUSE_SECONDS`: deploy/nginx keeps it that long for the same
  URL and the same credentials, so a player reading a file range by range asks Django once
  every few seconds rather than once a range (docs/PERFORMANCE.md, media bytes). Refusals
  carry no such header and are never kept.
- `redirect` (object storage): a 302 to a pre-signed URL of the object that expires after
  `MEDIA_URL_EXPIRY` seconds. Playlists are never redirected: the player resolves the
  relative URLs inside a playlist against the URL it fetched it from, which must stay ours
  so that every segment request passes the access check again.

Callers check `can_watch` first (videos.selectors.video_for_playback); nothing here decides
who may read what, and nothing here takes a name from the client.
"""

import logging
from datetime import datetime
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from videohost.errors import NotFound
from videohost.media import MEDIA_CONTENT_SECURITY_POLICY
from videos.streaming import stream_file

logger = logging.getLogger(__name__)


def deliver_private(
    request: HttpRequest,
    *,
    storage: Storage,
    name: str,
    content_type: str,
    etag: str,
    last_modified: datetime,
    cache_control: str = "private",
    may_redirect: bool = True,
) -> HttpResponse:
    mode = settings.MEDIA_DELIVERY
    if mode == "redirect" and may_redirect:
        url = storage.url(name, expire=settings.MEDIA_URL_EXPIRY)
        response = HttpResponseRedirect(url)
        # The signed URL expires: neither the browser nor a proxy may reuse this answer.
        response["Cache-Control"] = "private, no-store"
        return _as_media(response)
    if mode == "nginx":
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_PREFIX + quote(name)
        response["Cache-Control"] = cache_control
        response["ETag"] = etag
        if settings.MEDIA_CHECK_REUSE_SECONDS:
            response["X-Accel-Expires"] = str(settings.MEDIA_CHECK_REUSE_SECONDS)
        return _as_media(response)
    try:
        file = storage.open(name, "rb")
        size = file.size
    except OSError:
        logger.exception("%s is missing from storage", name)
        raise NotFound("This file is unavailable.") from None
    response = stream_file(
        request,
        file,
        size=size,
        content_type=content_type,
        etag=etag,
        last_modified=last_modified,
    )
    response["Cache-Control"] = cache_control
    return _as_media(response)


def _as_media(response: HttpResponse) -> HttpResponse:
    response["Content-Security-Policy"] = MEDIA_CONTENT_SECURITY_POLICY
    return response
