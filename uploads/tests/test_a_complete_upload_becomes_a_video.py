"""POST /api/videos with `upload_id`: a complete upload of the caller's becomes a video (moved
into storage, not copied), and the upload is gone; anything else is refused."""

import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from uploads.models import Upload
from uploads.tests.conftest import stored_parts, tus_create, tus_patch
from videohost.testing import assert_error_envelope, sample_clip_bytes
from videos.models import Video
from videos.tests.helpers import png_bytes, stored_files

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(client_for, author):
    return client_for(author)


def uploaded(client, data: bytes, *, send: int | None = None) -> str:
    """Upload `data` (or only its first `send` bytes) through tus; the upload's id."""
    url = tus_create(client, len(data))["Location"]
    part = data if send is None else data[:send]
    if part:
        assert tus_patch(client, url, part, offset=0).status_code == 204
    return url.rsplit("/", 1)[1]


def create_video(client, upload_id: str, *, format="json", **fields):
    fields.setdefault("title", "From a resumable upload")
    return client.post("/api/videos", {"upload_id": upload_id, **fields}, format=format)


@pytest.mark.parametrize("format", ["json", "multipart"])
def test_a_complete_upload_becomes_a_video_with_the_same_bytes(alice, author, format):
    clip = sample_clip_bytes()
    upload_id = uploaded(alice, clip)
    part = Upload.objects.get().path.stat()

    response = create_video(alice, upload_id, format=format, access_level="subscriber")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "From a resumable upload"
    assert body["access_level"] == "subscriber"
    video = Video.objects.get(pk=body["id"])
    assert video.channel == author.channel
    assert video.file_size == len(clip)
    with video.file.storage.open(video.file.name, "rb") as original:
        assert original.read() == clip
    # Moved, not copied: the original is the very file the upload wrote.
    stored = os.stat(video.file.path)
    assert (stored.st_dev, stored.st_ino) == (part.st_dev, part.st_ino)
    assert not Upload.objects.exists()
    assert stored_parts() == {}


def test_an_incomplete_upload_is_a_409_and_stays_resumable(alice):
    clip = sample_clip_bytes()
    upload_id = uploaded(alice, clip, send=len(clip) // 2)
    before = stored_files()

    response = create_video(alice, upload_id)

    error = assert_error_envelope(response, 409, "CONFLICT")
    assert f"{len(clip) // 2} of {len(clip)} bytes" in error["message"]
    assert Upload.objects.get().offset == len(clip) // 2
    assert stored_files() == before
    assert not Video.objects.exists()


def test_someone_elses_upload_is_a_404(alice, client_for, stranger):
    upload_id = uploaded(alice, sample_clip_bytes())

    response = create_video(client_for(stranger), upload_id)

    assert_error_envelope(response, 404, "NOT_FOUND")
    assert Upload.objects.get().is_complete
    assert not Video.objects.exists()


def test_an_unknown_upload_is_a_404(alice):
    response = create_video(alice, "5f0c1c52-54a2-4a0e-8d43-0f4f1f6f3e2b")

    assert_error_envelope(response, 404, "NOT_FOUND")


def test_a_complete_upload_that_is_not_a_video_is_a_415_and_is_deleted(alice):
    before = stored_files()
    upload_id = uploaded(alice, png_bytes())

    response = create_video(alice, upload_id)

    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not Upload.objects.exists()
    assert stored_parts() == {}
    assert stored_files() == before


def test_invalid_details_keep_the_upload_for_another_try(alice):
    upload_id = uploaded(alice, sample_clip_bytes())

    refused = create_video(alice, upload_id, title="   ")
    accepted = create_video(alice, upload_id)

    assert "title" in assert_error_envelope(refused, 400, "BAD_REQUEST")["details"]
    assert accepted.status_code == 201


def test_an_upload_is_used_once(alice):
    upload_id = uploaded(alice, sample_clip_bytes())

    assert create_video(alice, upload_id).status_code == 201
    assert_error_envelope(create_video(alice, upload_id), 404, "NOT_FOUND")
    assert Video.objects.count() == 1


def test_file_and_upload_id_together_are_a_400(alice):
    clip = sample_clip_bytes()
    upload_id = uploaded(alice, clip)

    response = alice.post(
        "/api/videos",
        {"file": SimpleUploadedFile("a.mp4", clip), "upload_id": upload_id, "title": "Both"},
        format="multipart",
    )

    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert set(error["details"]) == {"upload_id"}
    assert Upload.objects.exists()


def test_neither_file_nor_upload_id_names_the_file_with_the_other_missing_fields(alice):
    response = alice.post("/api/videos", {"description": "x"}, format="json")

    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert set(error["details"]) == {"file", "title"}


def test_a_malformed_upload_id_is_a_400(alice):
    response = create_video(alice, "not-a-uuid")

    assert "upload_id" in assert_error_envelope(response, 400, "BAD_REQUEST")["details"]
