"""Factories shared by every app's tests (factory_boy, no JSON fixtures)."""

import functools
import tempfile
from pathlib import Path

import factory
from django.core.files.base import ContentFile

from accounts.models import User
from channels_app.models import Channel, Subscription
from videos.media_tools import generate_clip
from videos.models import AccessLevel, Video, VideoStatus

PASSWORD = "correct-horse-battery-42"  # noqa: S105 - test fixture password


@functools.cache
def sample_clip_bytes() -> bytes:
    """A 3-second 320x240 H.264 clip, generated once per test process."""
    with tempfile.TemporaryDirectory() as folder:
        path = generate_clip(Path(folder) / "sample.mp4", seconds=3)
        return path.read_bytes()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    display_name = factory.LazyAttribute(lambda u: u.username.title())
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ChannelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Channel

    owner = factory.SubFactory(UserFactory, is_author=True)
    title = factory.LazyAttribute(lambda c: f"{c.owner.username}'s channel")
    description = "Videos about things."


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    channel = factory.SubFactory(ChannelFactory)
    is_sponsor = False


class VideoFactory(factory.django.DjangoModelFactory):
    """A ready video whose original is a real, playable clip in private storage."""

    class Meta:
        model = Video
        skip_postgeneration_save = True

    channel = factory.SubFactory(ChannelFactory)
    title = factory.Sequence(lambda n: f"Video {n}")
    description = "A test video."
    access_level = AccessLevel.PUBLIC
    has_ads = False
    status = VideoStatus.READY
    duration = 3.0
    width = 320
    height = 240
    mime_type = "video/mp4"

    @factory.post_generation
    def with_file(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        data = sample_clip_bytes()
        obj.file.save(f"videos/{obj.media_key}/original.mp4", ContentFile(data), save=False)
        obj.file_size = len(data)
        obj.save(update_fields=["file", "file_size"])


def assert_error_envelope(response, status: int, code: str) -> dict:
    """The response is the contract's error envelope with this status and code; its inner
    `error` object is returned for further checks."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["code"] == code, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"], body
    assert isinstance(body["error"]["details"], dict), body
    return body["error"]


def console_problems(page) -> list[str]:
    """Collect the browser console's errors and uncaught page errors as they happen."""
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def with_hls(video: Video) -> Video:
    """Run the real processing job on `video` (a VideoFactory one, say): HLS ladder, sprite."""
    from videos.services import video_process

    Video.objects.filter(pk=video.pk).update(
        status=VideoStatus.PROCESSING, processing_token="t" * 32
    )
    outcome = video_process(video_id=video.pk, token="t" * 32)
    assert outcome == "ready", outcome
    video.refresh_from_db()
    return video


def stop_server_process(process) -> None:
    """Stop a forked test server for certain: a child still alive at the end of the session
    would keep pytest waiting for it forever (multiprocessing joins its children at exit)."""
    process.terminate()
    process.join(timeout=10)
    if process.is_alive():
        process.kill()
        process.join(timeout=10)
