"""The HLS ladder and the scrub sprite are guarded like the original: every playlist, segment
and the sprite pass `can_watch` for every persona × access level, and no path reaches a file
the row does not name.

The expectations come from the written table of test_access_matrix (API.md's rules typed out),
not from the policy functions.
"""

import pytest

from videohost.testing import assert_error_envelope, with_hls
from videos.models import AccessLevel, VideoStatus
from videos.tests.helpers import streamed_bytes
from videos.tests.test_access_matrix import FIXTURE_OF, TABLE

ERROR_CODES = {401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND"}


@pytest.fixture
def cast(request, author, viewer, subscriber, sponsor, moderator):
    users = {name: request.getfixturevalue(fixture) for name, fixture in FIXTURE_OF.items()}
    return {"anonymous": None, **users}


def ladder_paths(video) -> list[str]:
    rendition = video.renditions[0]["name"]
    return ["master.m3u8", f"{rendition}/index.m3u8", f"{rendition}/seg_00000.ts"]


@pytest.mark.parametrize("level", AccessLevel.values)
def test_every_playlist_and_segment_follows_the_access_table(level, cast, client_for, make_video):
    video = with_hls(make_video(access_level=level))
    rows = [(persona, status) for persona, lvl, _, _, status in TABLE if lvl == level]
    assert len(rows) == 6
    for persona, expected in rows:
        client = client_for(cast[persona])
        for path in ladder_paths(video):
            response = client.get(f"/api/videos/{video.pk}/hls/{path}")
            if expected == 200:
                assert response.status_code == 200, (persona, path, response.status_code)
                body = streamed_bytes(response)
                if path.endswith(".m3u8"):
                    assert response["Content-Type"] == "application/vnd.apple.mpegurl"
                    assert body.startswith(b"#EXTM3U")
                else:
                    assert response["Content-Type"] == "video/mp2t"
                    assert body[0] == 0x47  # an MPEG-TS sync byte
            else:
                error = assert_error_envelope(response, expected, ERROR_CODES[expected])
                assert "EXTM3U" not in error["message"]
        sprite = client.get(f"/api/videos/{video.pk}/sprite")
        if expected == 200:
            assert sprite.status_code == 200 and sprite["Content-Type"] == "image/jpeg"
            assert streamed_bytes(sprite)[:2] == b"\xff\xd8"  # a JPEG
        else:
            assert_error_envelope(sprite, expected, ERROR_CODES[expected])
        body = client.get(f"/api/videos/{video.pk}").json() if expected == 200 else None
        if body is not None:
            assert body["hls_url"] == f"/api/videos/{video.pk}/hls/master.m3u8"


def test_the_playlists_name_the_segments_relatively_so_each_request_comes_back_here(
    client_for, make_video
):
    video = with_hls(make_video())
    master = streamed_bytes(client_for(None).get(f"/api/videos/{video.pk}/hls/master.m3u8"))
    rendition = video.renditions[0]["name"]
    assert f"\n{rendition}/index.m3u8".encode() in master
    playlist = streamed_bytes(
        client_for(None).get(f"/api/videos/{video.pk}/hls/{rendition}/index.m3u8")
    )
    assert b"\nseg_00000.ts" in playlist and b"://" not in playlist


def test_no_hls_url_for_whoever_cannot_watch_or_before_processing(client_for, viewer, make_video):
    protected = with_hls(make_video(access_level="sponsor"))
    assert client_for(viewer).get(f"/api/videos/{protected.pk}").json()["hls_url"] is None
    plain = make_video()
    assert client_for(None).get(f"/api/videos/{plain.pk}").json()["hls_url"] is None
    response = client_for(None).get(f"/api/videos/{plain.pk}/hls/master.m3u8")
    assert_error_envelope(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    "path",
    [
        "../original.mp4",
        "..%2Foriginal.mp4",
        "%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "240p/../../original.mp4",
        "240p/..%2F..%2Foriginal.mp4",
        "/etc/passwd",
        "240p//seg_00000.ts",
        "240p/seg_0.ts",
        "240p/index.m3u8.bak",
        "1080p/index.m3u8",  # a rendition this video does not have
        "master.m3u8/../original.mp4",
        "original.mp4",
        "sprite.jpg",
    ],
)
def test_paths_outside_the_ladder_are_not_found(path, client_for, author, make_video):
    video = with_hls(make_video())
    response = client_for(author).get(f"/api/videos/{video.pk}/hls/{path}")
    assert response.status_code == 404, (path, response.status_code)
    assert response.json()["error"]["code"] == "NOT_FOUND"


def test_a_hidden_video_ladder_is_gone_for_everyone_but_owner_and_staff(
    client_for, author, viewer, moderator, make_video
):
    video = with_hls(make_video())
    video.is_hidden = True
    video.save(update_fields=["is_hidden"])
    url = f"/api/videos/{video.pk}/hls/master.m3u8"
    assert_error_envelope(client_for(viewer).get(url), 404, "NOT_FOUND")
    assert_error_envelope(client_for(None).get(url), 404, "NOT_FOUND")
    assert client_for(author).get(url).status_code == 200
    assert client_for(moderator).get(url).status_code == 200


def test_a_ladder_is_gone_for_others_once_its_video_is_no_longer_listed(client_for, make_video):
    video = with_hls(make_video())
    type(video).objects.filter(pk=video.pk).update(status=VideoStatus.FAILED)
    # Not listed any more: others are told it does not exist, as for the detail.
    response = client_for(None).get(f"/api/videos/{video.pk}/hls/master.m3u8")
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_behind_nginx_the_bytes_leave_through_x_accel_redirect_after_the_check(
    client_for, viewer, make_video, settings
):
    settings.MEDIA_DELIVERY = "nginx"
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"
    video = with_hls(make_video())
    rendition = video.renditions[0]["name"]
    response = client_for(viewer).get(f"/api/videos/{video.pk}/hls/{rendition}/seg_00000.ts")
    assert response.status_code == 200
    folder = video.hls_playlist.rsplit("/", 1)[0]
    assert response["X-Accel-Redirect"] == f"/protected-media/{folder}/{rendition}/seg_00000.ts"
    assert response["Content-Type"] == "video/mp2t"
    assert response.content == b""
    stream = client_for(viewer).get(f"/api/videos/{video.pk}/stream")
    assert stream["X-Accel-Redirect"] == f"/protected-media/{video.file.name}"

    protected = with_hls(make_video(access_level="subscriber"))
    refused = client_for(viewer).get(f"/api/videos/{protected.pk}/hls/master.m3u8")
    assert_error_envelope(refused, 403, "FORBIDDEN")
    assert "X-Accel-Redirect" not in refused
