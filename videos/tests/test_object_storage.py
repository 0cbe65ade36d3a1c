"""STORAGE_BACKEND=s3: originals, HLS output and pictures live in a bucket on a real S3 server
(moto's, on loopback), the worker reads and writes there, playback hands out signed URLs only
after `can_watch`, and deleting a video leaves no object behind.

Nothing is mocked: the upload goes through the API, the job through `db_worker`, and the
signed URLs are fetched over HTTP from the S3 server like a browser would.
"""

import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from videohost.storage import MediaS3Storage, private_storage, public_storage
from videohost.testing import assert_error_envelope
from videos.media_tools import generate_clip
from videos.models import Video, VideoStatus
from videos.tests.helpers import streamed_bytes

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def clip(tmp_path) -> bytes:
    return generate_clip(tmp_path / "clip.mp4", seconds=4, size="640x360").read_bytes()


def fetch(url: str) -> tuple[int, bytes, Message]:
    """GET `url` as a browser following the redirect would: no credentials of ours."""
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 - loopback http
            return answer.status, answer.read(), answer.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def files_under(root: Path) -> set[Path]:
    return {path for path in root.rglob("*") if path.is_file()}


def signed_url_of(response, s3_media) -> str:
    assert response.status_code == 302, response.content[:300]
    assert response["Cache-Control"] == "private, no-store"
    url = response["Location"]
    assert url.startswith(f"{s3_media.server.endpoint_url}/{s3_media.bucket}/private/videos/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Signature"] and query["X-Amz-Credential"]
    assert query["X-Amz-Expires"] == [str(settings.MEDIA_URL_EXPIRY)]
    return url


def unsigned(url: str) -> str:
    return url.split("?", 1)[0]


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def test_s3_upload_process_play_through_the_protected_routes_and_delete_leaves_nothing(
    s3_media, client_for, author, subscriber, viewer, clip, settings
):
    settings.MEDIA_URL_EXPIRY = 30
    assert isinstance(private_storage(), MediaS3Storage)
    assert isinstance(Video._meta.get_field("thumbnail").storage, MediaS3Storage)
    local_before = files_under(settings.MEDIA_ROOT)

    # Upload: the declared type is a lie the store must not repeat to browsers.
    upload = SimpleUploadedFile("clip.mp4", clip, content_type="text/html")
    response = client_for(author).post(
        "/api/videos",
        {"file": upload, "title": "On S3", "access_level": "subscriber"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["id"])
    key = video.media_key
    assert s3_media.keys() == {
        f"private/videos/{key}/original.mp4",
        f"public/videos/{key}/thumbnail.jpg",
    }
    original = s3_media.client.head_object(
        Bucket=s3_media.bucket, Key=f"private/videos/{key}/original.mp4"
    )
    assert original["ContentType"] == "video/mp4"
    assert original["ContentLength"] == len(clip)

    # Process: the worker downloads the original and uploads the ladder and the sprite.
    run_worker()
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.failure_reason
    rendition = video.renditions[0]["name"]
    assert rendition == "360p"
    hls = video.hls_playlist.rsplit("/", 1)[0]
    keys = s3_media.keys()
    assert {
        f"private/{hls}/master.m3u8",
        f"private/{hls}/{rendition}/index.m3u8",
        f"private/{hls}/{rendition}/seg_00000.ts",
        f"private/{video.sprite.name}",
    } <= keys
    assert all(key in name for name in keys)
    segment = s3_media.client.get_object(
        Bucket=s3_media.bucket, Key=f"private/{hls}/{rendition}/seg_00000.ts"
    )
    assert segment["ContentType"] == "video/mp2t"
    segment_bytes = segment["Body"].read()
    assert files_under(settings.MEDIA_ROOT) == local_before, "nothing may land on local disk"

    # Play: playlists come from Django, segments and the original by signed redirect.
    sam = client_for(subscriber)
    base = f"/api/videos/{video.pk}"
    master = sam.get(f"{base}/hls/master.m3u8")
    assert master.status_code == 200
    assert master["Content-Type"] == "application/vnd.apple.mpegurl"
    assert f"\n{rendition}/index.m3u8".encode() in streamed_bytes(master)
    playlist = sam.get(f"{base}/hls/{rendition}/index.m3u8")
    assert playlist.status_code == 200
    assert b"\nseg_00000.ts" in streamed_bytes(playlist)

    segment_url = signed_url_of(sam.get(f"{base}/hls/{rendition}/seg_00000.ts"), s3_media)
    status, body, headers = fetch(segment_url)
    assert (status, headers["Content-Type"]) == (200, "video/mp2t")
    assert body == segment_bytes and body[0] == 0x47  # an MPEG-TS sync byte

    stream_url = signed_url_of(sam.get(f"{base}/stream"), s3_media)
    status, body, headers = fetch(stream_url)
    assert (status, headers["Content-Type"], body) == (200, "video/mp4", clip)

    # The pictures are public objects with plain, cacheable URLs.
    thumbnail_url = sam.get(base).json()["thumbnail_url"]
    assert thumbnail_url == (
        f"{s3_media.server.endpoint_url}/{s3_media.bucket}/public/videos/{key}/thumbnail.jpg"
    )
    status, body, headers = fetch(thumbnail_url)
    assert (status, body[:2]) == (200, b"\xff\xd8")
    assert headers["Cache-Control"] == "public, max-age=3600"

    # Whoever may not watch gets the error and no URL; a guessed object URL gets nothing.
    for client, expected, code in [
        (client_for(None), 401, "UNAUTHORIZED"),
        (client_for(viewer), 403, "FORBIDDEN"),
    ]:
        for path in ("stream", f"hls/{rendition}/seg_00000.ts", "hls/master.m3u8"):
            refused = client.get(f"{base}/{path}")
            assert_error_envelope(refused, expected, code)
            assert not refused.has_header("Location")
    for url in (segment_url, stream_url):
        status, body, _ = fetch(unsigned(url))
        assert status == 403, body[:200]
        assert b"EXTM3U" not in body and clip[:64] not in body

    # Delete: every object under the video's key goes, in both prefixes.
    assert client_for(author).delete(base).status_code == 204
    assert not {name for name in s3_media.keys() if key in name}
    assert fetch(segment_url)[0] == 404  # the signature is still good; the object is gone
    assert files_under(settings.MEDIA_ROOT) == local_before


def test_avatars_and_ad_pictures_are_public_objects(s3_media, client_for, viewer):
    from videos.services import ad_create
    from videos.tests.helpers import png_bytes

    response = client_for(viewer).patch(
        "/api/auth/me",
        {"avatar": SimpleUploadedFile("me.png", png_bytes(), content_type="image/png")},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    viewer.refresh_from_db()
    ad = ad_create(
        title="House ad",
        target_url="https://example.com/",
        image=SimpleUploadedFile("ad.png", png_bytes(), content_type="image/png"),
    )
    assert s3_media.keys() == {f"public/{viewer.avatar.name}", f"public/{ad.image.name}"}
    for url, media_type in [
        (response.json()["avatar_url"], "image/jpeg"),
        (ad.image.url, "image/png"),
    ]:
        assert "X-Amz-Signature" not in url
        status, body, headers = fetch(url)
        assert (status, headers["Content-Type"]) == (200, media_type), url
        with public_storage().open(url.split("/public/", 1)[1]) as stored:
            assert body == stored.read()


def test_signed_urls_are_made_for_the_address_browsers_use():
    options = {
        "bucket_name": "media",
        "endpoint_url": "http://minio:9000",
        "public_endpoint_url": "https://videos.example.com",
        "access_key": "key",
        "secret_key": "secret",
        "region_name": "us-east-1",
    }
    from videohost.settings import storages_for

    configured = storages_for(Path("/unused"), options)
    private = MediaS3Storage(**configured["default"]["OPTIONS"])
    public = MediaS3Storage(**configured["public"]["OPTIONS"])

    url = private.url("videos/abc/hls-1/360p/seg_00000.ts", expire=45)
    assert url.startswith("https://videos.example.com/media/private/videos/abc/hls-1/360p/")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["45"] and query["X-Amz-Signature"]
    assert public.url("videos/abc/thumbnail.jpg") == (
        "https://videos.example.com/media/public/videos/abc/thumbnail.jpg"
    )
    # The processes themselves still talk to the inside address.
    assert private.connection.meta.client.meta.endpoint_url == "http://minio:9000"
