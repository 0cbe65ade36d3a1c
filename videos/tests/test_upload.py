"""POST /api/videos and video_upload: the content is probed, names are generated, and a refused
upload leaves nothing behind."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from videohost.errors import InvalidInput, NotAllowed, PayloadTooLarge, UnsupportedMedia
from videohost.storage import private_storage, public_storage
from videohost.testing import assert_error_envelope
from videos.media_tools import generate_clip
from videos.models import Video, VideoStatus
from videos.services import video_upload
from videos.tests.helpers import png_bytes, stored_files
from videos.uploads import MULTIPART_ALLOWANCE


@pytest.fixture(scope="module")
def truncated_clips(tmp_path_factory) -> dict[str, bytes]:
    """The first half of a clip with its index at the end, and of one with it at the start."""
    folder = tmp_path_factory.mktemp("truncated")
    halves = {}
    for name, faststart in [("index-at-end", False), ("faststart", True)]:
        data = generate_clip(folder / f"{name}.mp4", seconds=3, faststart=faststart).read_bytes()
        halves[name] = data[: len(data) // 2]
    return halves


def upload(client, data: bytes, *, name: str = "clip.mp4", content_type="video/mp4", **fields):
    fields.setdefault("title", "My clip")
    return client.post(
        "/api/videos",
        {"file": SimpleUploadedFile(name, data, content_type), **fields},
        format="multipart",
    )


@pytest.fixture
def before():
    """The storages' contents before the test, to prove a refusal leaves nothing behind."""
    return stored_files()


def test_real_clip_is_stored_with_probed_details(client_for, author, channel, clip):
    response = upload(
        client_for(author),
        clip,
        name="../../My Holiday <script>.mp4",
        title="Holiday",
        description="Sea and sand",
        access_level="subscriber",
        has_ads="true",
        duration="999",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    video = Video.objects.get(pk=body["id"])
    assert video.channel == channel
    # Listed once the worker has made its HLS ladder (test_processing_pipeline).
    assert video.status == VideoStatus.PROCESSING
    assert video.duration == pytest.approx(3.0, abs=0.1)
    assert body["duration"] == pytest.approx(3.0, abs=0.1)
    assert (video.width, video.height) == (320, 240)
    assert video.mime_type == "video/mp4"
    assert video.file_size == len(clip)
    assert body["title"] == "Holiday"
    assert body["description"] == "Sea and sand"
    assert body["access_level"] == "subscriber"
    assert body["has_ads"] is True
    assert body["status"] == "processing"
    assert body["hls_url"] is None
    assert body["channel"]["id"] == channel.pk
    assert body["channel"]["owner"]["username"] == "alice"
    assert "email" not in body["channel"]["owner"]
    assert body["can_watch"] is True
    assert body["stream_url"] == f"/api/videos/{video.pk}/stream"


def test_stored_original_has_a_generated_name_in_private_storage(client_for, author, clip):
    response = upload(client_for(author), clip, name="My Holiday.mp4")
    video = Video.objects.get(pk=response.json()["id"])
    assert video.file.name == f"videos/{video.media_key}/original.mp4"
    assert "Holiday" not in video.file.name
    with private_storage().open(video.file.name) as stored:
        assert stored.read() == clip
    assert not public_storage().exists(video.file.name)  # no URL reaches the original


def test_thumbnail_is_a_jpeg_in_public_storage(client_for, author, clip):
    response = upload(client_for(author), clip)
    video = Video.objects.get(pk=response.json()["id"])
    assert video.thumbnail.name == f"videos/{video.media_key}/thumbnail.jpg"
    assert response.json()["thumbnail_url"] == public_storage().url(video.thumbnail.name)
    with public_storage().open(video.thumbnail.name) as stored, Image.open(stored) as picture:
        assert picture.format == "JPEG"
        assert picture.size == (320, 240)


def test_upload_without_trailing_slash_and_with_one_both_work(client_for, author, clip):
    client = client_for(author)
    assert upload(client, clip).status_code == 201
    response = client.post(
        "/api/videos/",
        {"file": SimpleUploadedFile("a.mp4", clip, "video/mp4"), "title": "Slash"},
        format="multipart",
    )
    assert response.status_code == 201


def test_html_named_mp4_is_refused_as_unsupported_media(client_for, author, before):
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    error = assert_error_envelope(upload(client_for(author), html), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert error["message"]
    assert stored_files() == before
    assert not Video.objects.exists()


@pytest.mark.parametrize("kind", ["index-at-end", "faststart"])
def test_truncated_video_is_refused_as_unsupported_media(
    kind, truncated_clips, client_for, author, before
):
    response = upload(client_for(author), truncated_clips[kind])
    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert stored_files() == before
    assert not Video.objects.exists()


def test_png_named_mp4_is_refused_as_unsupported_media(client_for, author, before):
    response = upload(client_for(author), png_bytes(), content_type="video/mp4")
    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert stored_files() == before


def test_declared_length_over_the_limit_is_refused_before_the_body_is_parsed(
    client_for, author, clip, settings, before
):
    settings.MAX_UPLOAD_SIZE = 10_000
    response = upload(client_for(author), clip)
    assert int(response.wsgi_request.META["CONTENT_LENGTH"]) > 10_000 + MULTIPART_ALLOWANCE
    assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert stored_files() == before


class UnreadableBody:
    """A request body that fails the test if anything reads it."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def test_oversize_declared_length_is_refused_without_reading_a_byte(client_for, author, settings):
    settings.MAX_UPLOAD_SIZE = 10_000
    response = client_for(author).generic(
        "POST",
        "/api/videos",
        b"x",
        content_type="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
        **{"wsgi.input": UnreadableBody()},
    )
    assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_body_that_grows_past_the_limit_while_streaming_is_refused(
    client_for, author, clip, settings, before
):
    # Declared length within the pre-check's allowance, so only the streaming count stops it;
    # and no title, so a body that got through the parser would be a 400, not a 413.
    settings.MAX_UPLOAD_SIZE = len(clip) - 1000
    response = client_for(author).post(
        "/api/videos", {"file": SimpleUploadedFile("a.mp4", clip)}, format="multipart"
    )
    assert int(response.wsgi_request.META["CONTENT_LENGTH"]) <= (
        settings.MAX_UPLOAD_SIZE + MULTIPART_ALLOWANCE
    )
    assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")
    assert stored_files() == before
    assert not Video.objects.exists()


def test_upload_exactly_at_the_limit_is_accepted(client_for, author, clip, settings):
    settings.MAX_UPLOAD_SIZE = len(clip)
    assert upload(client_for(author), clip).status_code == 201


def test_missing_file_and_title_are_named_in_the_details(client_for, author, before):
    response = client_for(author).post("/api/videos", {"description": "x"}, format="multipart")
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert set(error["details"]) == {"file", "title"}
    assert stored_files() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"access_level": "friends"}, "access_level"),
        ({"has_ads": "perhaps"}, "has_ads"),
    ],
)
def test_invalid_fields_are_named_in_the_details(fields, field, client_for, author, clip, before):
    error = assert_error_envelope(upload(client_for(author), clip, **fields), 400, "BAD_REQUEST")
    assert field in error["details"]
    assert stored_files() == before


@pytest.mark.parametrize("body", ["[null, null]", '"a video"', "42"])
def test_a_json_body_that_is_not_an_object_is_a_bad_request_not_a_server_error(
    body, client_for, author, before
):
    # Found by the schema fuzzer: the file-or-upload_id rule called `.get` on a list.
    response = client_for(author).post("/api/videos", body, content_type="application/json")
    assert_error_envelope(response, 400, "BAD_REQUEST")
    assert stored_files() == before


def test_user_without_a_channel_cannot_upload(client_for, viewer, clip, before):
    error = assert_error_envelope(upload(client_for(viewer), clip), 403, "FORBIDDEN")
    assert error["message"] == "Create a channel before uploading"
    assert stored_files() == before


def test_anonymous_cannot_upload(client_for, author, clip, before):
    assert_error_envelope(upload(client_for(None), clip), 401, "UNAUTHORIZED")
    assert stored_files() == before
    assert not Video.objects.exists()


def test_uploaded_video_goes_to_the_uploaders_own_channel(client_for, stranger, channel, clip):
    response = upload(client_for(stranger), clip)
    assert response.status_code == 201
    assert response.json()["channel"]["id"] == stranger.channel.pk
    assert not channel.videos.exists()


# --- The service itself, as the pages call it -------------------------------------------------


def test_service_probes_an_in_memory_upload_too(author, clip):
    uploaded = SimpleUploadedFile("whatever.bin", clip, "application/octet-stream")
    video = video_upload(user=author, uploaded_file=uploaded, title="From a form")
    assert video.pk is not None
    assert video.duration == pytest.approx(3.0, abs=0.1)
    assert video.file.name.endswith("/original.mp4")
    assert private_storage().exists(video.file.name)
    assert public_storage().exists(video.thumbnail.name)


def test_service_refuses_without_a_channel(viewer, clip):
    with pytest.raises(NotAllowed, match="Create a channel before uploading"):
        video_upload(user=viewer, uploaded_file=SimpleUploadedFile("a.mp4", clip), title="x")


def test_service_refuses_blank_title_with_details(author, clip):
    with pytest.raises(InvalidInput) as caught:
        video_upload(user=author, uploaded_file=SimpleUploadedFile("a.mp4", clip), title=" ")
    assert set(caught.value.details) == {"title"}


def test_service_refuses_an_oversize_file(author, clip, settings, before):
    settings.MAX_UPLOAD_SIZE = len(clip) - 1
    with pytest.raises(PayloadTooLarge):
        video_upload(user=author, uploaded_file=SimpleUploadedFile("a.mp4", clip), title="x")
    assert stored_files() == before


def test_service_refuses_an_image_with_the_probes_reason(author, before):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48)).save(buffer, format="GIF")
    uploaded = SimpleUploadedFile("a.mp4", buffer.getvalue(), "video/mp4")
    with pytest.raises(UnsupportedMedia) as caught:
        video_upload(user=author, uploaded_file=uploaded, title="x")
    assert caught.value.message != UnsupportedMedia.default_message
    assert stored_files() == before


def test_files_written_before_a_database_failure_are_removed(author, clip, before, monkeypatch):
    def fail(self, *args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Video, "save", fail)
    with pytest.raises(RuntimeError, match="database went away"):
        video_upload(user=author, uploaded_file=SimpleUploadedFile("a.mp4", clip), title="x")
    assert stored_files() == before
