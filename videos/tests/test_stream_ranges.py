"""GET/HEAD /api/videos/{id}/stream: single byte ranges, 416, headers a <video> element needs."""

import pytest
from django.utils.http import http_date

from videohost.testing import assert_error_envelope
from videos.streaming import ByteRange, RangeNotSatisfiable, parse_range
from videos.tests.helpers import streamed_bytes


@pytest.fixture
def video(make_video):
    return make_video(access_level="public")


@pytest.fixture
def stream(client_for, video, viewer):
    client = client_for(viewer)

    def get(method: str = "get", **headers):
        return getattr(client, method)(f"/api/videos/{video.pk}/stream", **headers)

    return get


def test_whole_file_is_served_with_the_headers_players_need(stream, clip, video):
    response = stream(HTTP_ACCEPT="*/*")
    assert response.status_code == 200
    assert streamed_bytes(response) == clip
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert response["Content-Length"] == str(len(clip))
    assert response["Cache-Control"] == "private"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["ETag"]
    assert response["Last-Modified"] == http_date(video.created_at.timestamp())


@pytest.mark.parametrize("accept", ["video/mp4", "video/webm,video/ogg,video/*;q=0.9", "*/*"])
def test_a_media_elements_accept_header_is_not_refused(stream, clip, accept):
    response = stream(HTTP_ACCEPT=accept, HTTP_RANGE="bytes=0-")
    assert response.status_code == 206
    assert streamed_bytes(response) == clip


def test_first_hundred_bytes(stream, clip):
    response = stream(HTTP_RANGE="bytes=0-99", HTTP_ACCEPT="video/mp4")
    assert response.status_code == 206
    assert streamed_bytes(response) == clip[:100]
    assert response["Content-Range"] == f"bytes 0-99/{len(clip)}"
    assert response["Content-Length"] == "100"
    assert response["Accept-Ranges"] == "bytes"


def test_open_ended_range_runs_to_the_end(stream, clip):
    response = stream(HTTP_RANGE="bytes=100-")
    assert response.status_code == 206
    assert streamed_bytes(response) == clip[100:]
    assert response["Content-Range"] == f"bytes 100-{len(clip) - 1}/{len(clip)}"
    assert response["Content-Length"] == str(len(clip) - 100)


def test_suffix_range_gives_the_last_bytes(stream, clip):
    response = stream(HTTP_RANGE="bytes=-50")
    assert response.status_code == 206
    assert streamed_bytes(response) == clip[-50:]
    assert response["Content-Range"] == f"bytes {len(clip) - 50}-{len(clip) - 1}/{len(clip)}"


def test_range_spanning_several_chunks_is_exact(stream, clip):
    start, end = 1000, 1000 + 600 * 1024  # > two 256 KiB chunks
    end = min(end, len(clip) - 1)
    response = stream(HTTP_RANGE=f"bytes={start}-{end}")
    assert response.status_code == 206
    assert streamed_bytes(response) == clip[start : end + 1]


def test_range_past_the_end_is_clamped_to_the_file(stream, clip):
    response = stream(HTTP_RANGE=f"bytes=10-{len(clip) * 2}")
    assert response.status_code == 206
    assert streamed_bytes(response) == clip[10:]
    assert response["Content-Range"] == f"bytes 10-{len(clip) - 1}/{len(clip)}"


@pytest.mark.parametrize("spec", ["bytes={size}-", "bytes={size}-{far}", "bytes=5-2", "bytes=-0"])
def test_unsatisfiable_range_is_416_with_the_size(stream, clip, spec):
    header = spec.format(size=len(clip), far=len(clip) + 10)
    response = stream(HTTP_RANGE=header, HTTP_ACCEPT="video/mp4")
    assert_error_envelope(response, 416, "RANGE_NOT_SATISFIABLE")
    assert response["Content-Range"] == f"bytes */{len(clip)}"


def test_several_ranges_get_the_whole_file(stream, clip):
    response = stream(HTTP_RANGE="bytes=0-10, 20-30")
    assert response.status_code == 200
    assert streamed_bytes(response) == clip
    assert "Content-Range" not in response


def test_other_range_units_are_ignored(stream, clip):
    response = stream(HTTP_RANGE="items=0-1")
    assert response.status_code == 200
    assert streamed_bytes(response) == clip


def test_head_gives_the_headers_without_a_body(stream, clip):
    response = stream("head")
    assert response.status_code == 200
    assert response["Content-Length"] == str(len(clip))
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "video/mp4"
    assert streamed_bytes(response) == b""


def test_head_with_a_range_describes_the_partial_response(stream, clip):
    response = stream("head", HTTP_RANGE="bytes=0-99")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 0-99/{len(clip)}"
    assert response["Content-Length"] == "100"
    assert streamed_bytes(response) == b""


def test_stale_if_range_gets_the_whole_file(stream, clip):
    response = stream(HTTP_RANGE="bytes=0-99", HTTP_IF_RANGE='"some-older-version"')
    assert response.status_code == 200
    assert streamed_bytes(response) == clip


def test_matching_if_range_gets_the_range(stream, clip):
    etag = stream("head")["ETag"]
    response = stream(HTTP_RANGE="bytes=0-99", HTTP_IF_RANGE=etag)
    assert response.status_code == 206
    assert streamed_bytes(response) == clip[:100]


def test_matching_if_none_match_is_not_modified(stream):
    etag = stream("head")["ETag"]
    response = stream(HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert streamed_bytes(response) == b""


def test_streaming_the_bytes_does_not_count_a_view(stream, video):
    streamed_bytes(stream())
    streamed_bytes(stream(HTTP_RANGE="bytes=0-99"))
    video.refresh_from_db()
    assert video.view_count == 0


def test_stream_path_with_trailing_slash_works(client_for, viewer, video, clip):
    response = client_for(viewer).get(f"/api/videos/{video.pk}/stream/")
    assert response.status_code == 200
    assert streamed_bytes(response) == clip


def test_unknown_video_stream_is_not_found(client_for, viewer, db):
    assert_error_envelope(client_for(viewer).get("/api/videos/999999/stream"), 404, "NOT_FOUND")


def test_video_whose_file_is_missing_from_storage_is_not_found(client_for, viewer, video):
    video.file.storage.delete(video.file.name)
    response = client_for(viewer).get(f"/api/videos/{video.pk}/stream", HTTP_ACCEPT="video/mp4")
    assert_error_envelope(response, 404, "NOT_FOUND")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=990-", ByteRange(990, 999)),
        ("bytes=-10", ByteRange(990, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=999-999", ByteRange(999, 999)),
        ("Bytes = 5-9", ByteRange(5, 9)),
        ("bytes=0-1,5-6", None),
        ("pages=1-2", None),
    ],
)
def test_parse_range_reads_single_byte_ranges(header, expected):
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", ["bytes=1000-", "bytes=1000-1001", "bytes=5-2", "bytes=-0", "bytes=x-y", "bytes=-"]
)
def test_parse_range_refuses_unsatisfiable_and_malformed_ranges(header):
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_no_range_of_an_empty_file_is_satisfiable():
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-1", 0)


def test_the_sites_session_cookie_is_enough_to_stream(client, subscriber, make_video, clip):
    # The site's own <video> element sends the session cookie, not a Bearer token.
    video = make_video(access_level="subscriber")
    client.force_login(subscriber)
    response = client.get(
        f"/api/videos/{video.pk}/stream", HTTP_ACCEPT="video/webm,video/ogg,video/*;q=0.9"
    )
    assert response.status_code == 200
    assert streamed_bytes(response) == clip
