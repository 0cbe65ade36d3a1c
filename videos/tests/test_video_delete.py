"""Deleting a video — through the API, by cascade from its channel or user, or in the admin —
removes its files from storage once the deletion commits."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from videohost.storage import private_storage, public_storage
from videohost.testing import assert_error_envelope
from videos.models import Video
from videos.services import video_process, video_upload


@pytest.fixture
def uploaded(author, clip):
    """A video stored through the real upload path and processed: original, thumbnail, HLS
    ladder and sprite all exist."""
    video = video_upload(
        user=author, uploaded_file=SimpleUploadedFile("a.mp4", clip), title="Doomed"
    )
    assert video_process(video_id=video.pk, token=video.processing_token) == "ready"
    video.refresh_from_db()
    assert private_storage().exists(video.file.name)
    assert public_storage().exists(video.thumbnail.name)
    assert private_storage().exists(video.sprite.name)
    assert private_storage().exists(video.hls_playlist)
    assert any(name.endswith(".ts") for _, name in files_of(video))
    return video


def files_of(video: Video) -> list[tuple]:
    files = [
        (private_storage(), video.file.name),
        (public_storage(), video.thumbnail.name),
        (private_storage(), video.sprite.name),
        (private_storage(), video.hls_playlist),
    ]
    for rendition in video.renditions:
        folder = f"{video.hls_playlist.rsplit('/', 1)[0]}/{rendition['name']}"
        files += [
            (private_storage(), f"{folder}/{name}") for name in private_storage().listdir(folder)[1]
        ]
    return [(storage, name) for storage, name in files if name]


def assert_gone(files) -> None:
    for storage, name in files:
        assert not storage.exists(name), name


def assert_kept(files) -> None:
    for storage, name in files:
        assert storage.exists(name), name


def test_owner_deletes_a_video_and_its_files(
    client_for, author, uploaded, django_capture_on_commit_callbacks
):
    files = files_of(uploaded)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).delete(f"/api/videos/{uploaded.pk}")
    assert response.status_code == 204
    assert not Video.objects.filter(pk=uploaded.pk).exists()
    assert_gone(files)
    folder = f"videos/{uploaded.media_key}"
    assert not private_storage().exists(folder)
    assert not public_storage().exists(folder)


@pytest.mark.parametrize("persona", ["viewer", "subscriber", "sponsor", "stranger", "moderator"])
def test_someone_else_cannot_delete_a_video(
    persona, request, client_for, uploaded, django_capture_on_commit_callbacks
):
    files = files_of(uploaded)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(request.getfixturevalue(persona)).delete(f"/api/videos/{uploaded.pk}")
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert Video.objects.filter(pk=uploaded.pk).exists()
    assert_kept(files)


def test_anonymous_cannot_delete_a_video(client_for, uploaded):
    assert_error_envelope(
        client_for(None).delete(f"/api/videos/{uploaded.pk}"), 401, "UNAUTHORIZED"
    )
    assert Video.objects.filter(pk=uploaded.pk).exists()


def test_deleting_the_channel_removes_its_videos_files(
    channel, uploaded, make_video, django_capture_on_commit_callbacks
):
    files = files_of(uploaded) + files_of(make_video())
    with django_capture_on_commit_callbacks(execute=True):
        channel.delete()
    assert not Video.objects.exists()
    assert_gone(files)


def test_deleting_the_user_removes_their_videos_files(
    author, uploaded, django_capture_on_commit_callbacks
):
    files = files_of(uploaded)
    with django_capture_on_commit_callbacks(execute=True):
        author.delete()
    assert_gone(files)


def test_files_stay_when_the_deletion_is_rolled_back(uploaded, django_capture_on_commit_callbacks):
    files = files_of(uploaded)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                Video.objects.get(pk=uploaded.pk).delete()
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert callbacks == []
    assert Video.objects.filter(pk=uploaded.pk).exists()
    assert_kept(files)


def test_other_videos_files_are_untouched(
    client_for, author, uploaded, make_video, django_capture_on_commit_callbacks
):
    other = make_video()
    with django_capture_on_commit_callbacks(execute=True):
        client_for(author).delete(f"/api/videos/{uploaded.pk}")
    assert_kept([(private_storage(), other.file.name)])
