"""The bytes of a video: the original (`/stream`) and the HLS ladder (`/hls/…`).

Every request passes `video_for_playback` (404, then `can_watch`: 401/403) before a byte
moves; the file to send is named from the database row plus a path that matched a strict
pattern, never from the client's path as such, so `..` or a guessed storage name leads
nowhere. How the bytes then travel (this process, nginx, or a signed object-storage URL) is
videos.delivery's business.
"""

import re

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from videohost.api.schema import errors
from videohost.errors import NotFound
from videos.delivery import deliver_private
from videos.selectors import video_for_playback
from videos.streaming import RangeNotSatisfiable

# master.m3u8, or <rendition>/index.m3u8, or <rendition>/seg_NNNNN.ts — nothing else exists.
HLS_PATH = re.compile(
    r"^(?:master\.m3u8|(?P<rendition>[0-9]{2,4}p)/(?:index\.m3u8|seg_[0-9]{5}\.ts))$"
)
HLS_TYPES = {".m3u8": "application/vnd.apple.mpegurl", ".ts": "video/mp2t"}
PLAYBACK_ERRORS = errors(
    e401="Anonymous, and the video is not public.",
    e403="The caller may not watch this video.",
    e404="No such video or file, or the video is not ready or hidden (except to owner and staff).",
)


class MediaView(APIView):
    """Bytes out, errors in the API's JSON envelope."""

    permission_classes = [AllowAny]  # video_for_playback is the access check
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request, force=False):
        # A <video> element sends `Accept: video/*`, hls.js `*/*`; no renderer matches the
        # former and DRF would answer 406. The bytes are not rendered by DRF.
        return super().perform_content_negotiation(request, force=True)

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, RangeNotSatisfiable):
            response["Content-Range"] = f"bytes */{exc.size}"
        return response


class VideoStreamView(MediaView):
    """The original's bytes, after `can_watch`; single byte ranges for seeking."""

    @extend_schema(
        summary="Stream a video's bytes",
        description="The original upload. Honours a single `Range: bytes=…` (206 with "
        "`Content-Range`); several ranges get the whole file (200). `Accept-Ranges: bytes` "
        "always. Guarded by the `can_watch` rules. With object storage the answer is a 302 to "
        "a short-lived signed URL. `?download=1` asks for it as an attachment.",
        responses={
            (200, "video/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The whole file."),
            (206, "video/*"): OpenApiResponse(OpenApiTypes.BINARY, description="One range."),
            **PLAYBACK_ERRORS,
            **errors(e416="Unsatisfiable range; `Content-Range: bytes */<size>`."),
        },
    )
    def get(self, request, pk: str):
        video, _ = video_for_playback(user=request.user, video_id=int(pk))
        if not video.file:
            raise NotFound("This video has no playable file.")
        response = deliver_private(
            request,
            storage=video.file.storage,
            name=video.file.name,
            content_type=video.mime_type or "application/octet-stream",
            # Originals are written once under a random name and never replaced.
            etag=f'"{video.media_key}-{video.file_size}"',
            last_modified=video.created_at,
        )
        if request.query_params.get("download") == "1" and response.status_code in (200, 206):
            extension = video.file.name.rsplit(".", 1)[-1]
            response["Content-Disposition"] = f'attachment; filename="video-{video.pk}.{extension}"'
        return response


class VideoSpriteView(MediaView):
    """The scrub-preview sprite: frames from the whole video, so guarded like its bytes."""

    @extend_schema(
        summary="Scrub-preview sprite",
        description="A JPEG grid of small frames (layout in the watch page's player data). "
        "Guarded by the `can_watch` rules.",
        responses={(200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY), **PLAYBACK_ERRORS},
    )
    def get(self, request, pk: str):
        video, _ = video_for_playback(user=request.user, video_id=int(pk))
        if not video.sprite:
            raise NotFound("This video has no sprite yet.")
        return deliver_private(
            request,
            storage=video.sprite.storage,
            name=video.sprite.name,
            content_type="image/jpeg",
            etag=f'"{video.sprite.name.rsplit("-", 1)[-1]}"',
            last_modified=video.processed_at or video.created_at,
            cache_control="private, max-age=3600",
        )


class VideoHlsView(MediaView):
    """The HLS ladder: master playlist, rendition playlists and segments, each access-checked."""

    @extend_schema(
        summary="HLS playlists and segments",
        description="`master.m3u8`, then `<rendition>/index.m3u8` and `<rendition>/seg_NNNNN.ts` "
        "as the playlists name them (relative URLs). Every request is checked against "
        "`can_watch`, so send the same credentials as for the video. With object storage, "
        "segments answer 302 to a short-lived signed URL.",
        responses={
            (200, "application/vnd.apple.mpegurl"): OpenApiResponse(OpenApiTypes.STR),
            (200, "video/mp2t"): OpenApiResponse(OpenApiTypes.BINARY),
            **PLAYBACK_ERRORS,
        },
    )
    def get(self, request, pk: str, path: str):
        match = HLS_PATH.match(path)
        if match is None:
            raise Http404("No such HLS file.")
        video, _ = video_for_playback(user=request.user, video_id=int(pk))
        if not video.hls_playlist:
            raise NotFound("This video has no HLS stream yet.")
        rendition = match.group("rendition")
        if rendition and rendition not in {r["name"] for r in video.renditions}:
            raise Http404("No such rendition.")
        folder = video.hls_playlist.rsplit("/", 1)[0]
        is_playlist = path.endswith(".m3u8")
        return deliver_private(
            request,
            storage=video.file.storage,
            name=f"{folder}/{path}",
            content_type=HLS_TYPES[".m3u8" if is_playlist else ".ts"],
            # The output folder is named by the processing run: new bytes, new name.
            etag=f'"{folder.rsplit("-", 1)[-1]}-{path}"',
            last_modified=video.processed_at or video.created_at,
            cache_control="private, max-age=3600",
            may_redirect=not is_playlist,
        )
