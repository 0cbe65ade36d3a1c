"""The background job: an upload is queued, the worker makes an HLS ladder no taller than the
source (aligned keyframes, a sprite), failures keep their reason, and a re-queue succeeds.

Everything runs for real: the upload goes through the API, the job through django-tasks'
database queue and its `db_worker`, and the output is checked by decoding it with FFmpeg.
"""

import re
from pathlib import Path

import av
import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from PIL import Image

from videohost.storage import private_storage, public_storage
from videohost.testing import assert_error_envelope
from videos import services
from videos.media_tools import generate_clip
from videos.models import Video, VideoStatus
from videos.processing import build_ladder, run_with_progress

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker() -> None:
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


@pytest.fixture
def wide_clip(tmp_path) -> bytes:
    """9 s of 640x360 with sound: two full 4-second segments and a short one."""
    return generate_clip(tmp_path / "wide.mp4", seconds=9, size="640x360").read_bytes()


def upload(client, data: bytes, **fields):
    from django.core.files.uploadedfile import SimpleUploadedFile

    body = {"file": SimpleUploadedFile("clip.mp4", data), "title": "Wide", **fields}
    return client.post("/api/videos", body, format="multipart")


def local(name: str) -> Path:
    return Path(private_storage().path(name))


def extinf(playlist: Path) -> list[str]:
    return re.findall(r"#EXTINF:([0-9.]+)", playlist.read_text())


def test_an_upload_is_queued_and_the_worker_makes_a_ladder_no_taller_than_the_source(
    client_for, author, wide_clip, settings
):
    settings.VIDEO_RENDITIONS = [240, 360, 720, 1080]
    response = upload(client_for(author), wide_clip)
    assert response.status_code == 201, response.content
    video = Video.objects.get(pk=response.json()["id"])
    assert video.status == VideoStatus.PROCESSING
    job = DBTaskResult.objects.get()
    assert job.args_kwargs["kwargs"] == {"video_id": video.pk, "token": video.processing_token}

    run_worker()

    video.refresh_from_db()
    assert (video.status, video.processing_progress, video.failure_reason) == ("ready", 100, "")
    assert [(r["name"], r["width"], r["height"]) for r in video.renditions] == [
        ("240p", 426, 240),
        ("360p", 640, 360),
    ]  # 720p and 1080p would be upscales
    master = local(video.hls_playlist)
    text = master.read_text()
    assert "RESOLUTION=426x240" in text and "RESOLUTION=640x360" in text
    assert "720p" not in text

    durations = []
    for rendition in video.renditions:
        playlist = master.parent / rendition["name"] / "index.m3u8"
        durations.append(extinf(playlist))
        with av.open(str(playlist)) as container:  # the rendition plays: decode it
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (
                rendition["width"],
                rendition["height"],
            )
            assert container.streams.audio, "the sound is kept"
            frames = sum(1 for _ in container.decode(stream))
        assert frames == pytest.approx(9 * 25, abs=2)
        for segment in sorted((master.parent / rendition["name"]).glob("seg_*.ts")):
            with av.open(str(segment)) as container:
                first = next(container.demux(container.streams.video[0]))
                assert first.is_keyframe, f"{segment.name} does not start on a keyframe"
    # Aligned keyframes: every rendition cuts its segments at the same instants.
    assert durations[0] == durations[1] == ["4.000000", "4.000000", "1.000000"]

    with private_storage().open(video.sprite.name) as handle, Image.open(handle) as sprite:
        info = video.sprite_info
        assert sprite.size == (info["columns"] * 160, info["rows"] * 90)
        assert info["count"] == 9 and info["interval"] == pytest.approx(1.0)

    body = client_for(author).get(f"/api/videos/{video.pk}").json()
    assert body["status"] == "ready"
    assert body["hls_url"] == f"/api/videos/{video.pk}/hls/master.m3u8"
    # The original stays, for its owner to download.
    assert private_storage().exists(video.file.name)


def test_a_source_shorter_than_every_rung_gets_one_rendition_at_its_own_height():
    ladder = build_ladder(width=320, height=240, heights=[360, 720, 1080], has_audio=False)
    assert [(r.name, r.width, r.height, r.bandwidth) for r in ladder] == [
        ("240p", 320, 240, 400_000)
    ]
    odd = build_ladder(width=1918, height=1081, heights=[360, 720, 1080], has_audio=True)
    assert [(r.name, r.width, r.height) for r in odd] == [
        ("360p", 638, 360),
        ("720p", 1278, 720),
        ("1080p", 1916, 1080),
    ]
    assert all(r.width % 2 == 0 and r.height % 2 == 0 for r in odd)


def test_progress_climbs_while_ffmpeg_runs_and_stays_below_100(tmp_path):
    source = generate_clip(tmp_path / "long.mp4", seconds=20, size="320x240")
    seen: list[int] = []
    command = [
        "ffmpeg", "-hide_banner", "-nostdin", "-progress", "pipe:1", "-nostats",
        "-i", str(source), "-c:v", "libx264", "-preset", "ultrafast", "-f", "null", "-",
    ]  # fmt: skip
    run_with_progress(command, duration=20.0, on_progress=seen.append, timeout=60, report_every=0)
    assert len(seen) >= 2
    assert seen == sorted(seen) and seen[-1] <= 99 and seen[-1] >= 90


def test_a_corrupt_original_ends_failed_with_its_reason_and_a_requeue_succeeds(
    client_for, author, wide_clip
):
    response = upload(client_for(author), wide_clip)
    video = Video.objects.get(pk=response.json()["id"])
    original = local(video.file.name)
    original.write_bytes(wide_clip[: len(wide_clip) // 3])  # storage damage after the upload

    run_worker()

    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "truncated" in video.failure_reason or "could not" in video.failure_reason
    assert not video.hls_playlist
    assert not private_storage().exists(
        f"videos/{video.media_key}/hls-{video.processing_token[:12]}"
    )
    state = client_for(author).get(f"/api/videos/{video.pk}/processing").json()
    assert state["status"] == "failed" and state["can_requeue"] is True
    assert state["failure_reason"] == video.failure_reason

    original.write_bytes(wide_clip)  # repaired
    response = client_for(author).post(f"/api/videos/{video.pk}/requeue")
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "processing"
    run_worker()

    video.refresh_from_db()
    assert (video.status, video.failure_reason) == ("ready", "")
    assert [r["name"] for r in video.renditions] == ["360p"]


def test_a_running_job_cannot_be_requeued_but_a_stalled_one_can(
    client_for, author, wide_clip, settings
):
    video = Video.objects.get(pk=upload(client_for(author), wide_clip).json()["id"])
    Video.objects.filter(pk=video.pk).update(processing_heartbeat_at=timezone.now())
    response = client_for(author).post(f"/api/videos/{video.pk}/requeue")
    assert_error_envelope(response, 409, "CONFLICT")

    settings.VIDEO_PROCESSING_STALL_SECONDS = 60
    Video.objects.filter(pk=video.pk).update(
        processing_heartbeat_at=timezone.now() - timezone.timedelta(seconds=61)
    )
    assert client_for(author).get(f"/api/videos/{video.pk}/processing").json()["stalled"]
    old_token = video.processing_token
    assert client_for(author).post(f"/api/videos/{video.pk}/requeue").status_code == 202
    video.refresh_from_db()
    assert video.processing_token != old_token
    assert DBTaskResult.objects.count() == 2

    # The first job, delivered late, sees it was superseded and leaves nothing behind.
    assert services.video_process(video_id=video.pk, token=old_token) == "superseded"
    run_worker()
    video.refresh_from_db()
    assert video.status == VideoStatus.READY
    folders = private_storage().listdir(f"videos/{video.media_key}")[0]
    assert folders == [f"hls-{video.processing_token[:12]}"]


def test_a_run_superseded_half_way_discards_its_output(author, wide_clip, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    video = services.video_upload(
        user=author, uploaded_file=SimpleUploadedFile("w.mp4", wide_clip), title="Raced"
    )
    real_transcode = services.transcode

    def transcode_then_get_requeued(**kwargs):
        result = real_transcode(**kwargs)
        Video.objects.filter(pk=video.pk).update(processing_token="n" * 32)
        return result

    monkeypatch.setattr(services, "transcode", transcode_then_get_requeued)
    assert services.video_process(video_id=video.pk, token=video.processing_token) == "superseded"
    video.refresh_from_db()
    assert video.status == VideoStatus.PROCESSING and not video.hls_playlist
    assert private_storage().listdir(f"videos/{video.media_key}")[0] == []
    assert public_storage().listdir(f"videos/{video.media_key}")[1] == ["thumbnail.jpg"]


def test_a_duplicate_delivery_of_a_finished_job_does_nothing(author, wide_clip):
    from django.core.files.uploadedfile import SimpleUploadedFile

    video = services.video_upload(
        user=author, uploaded_file=SimpleUploadedFile("w.mp4", wide_clip), title="Twice"
    )
    assert services.video_process(video_id=video.pk, token=video.processing_token) == "ready"
    playlist = Video.objects.get(pk=video.pk).hls_playlist
    assert services.video_process(video_id=video.pk, token=video.processing_token) == "ready"
    assert Video.objects.get(pk=video.pk).hls_playlist == playlist


@pytest.mark.parametrize("persona", ["viewer", "stranger", None])
def test_only_the_owner_and_staff_see_or_requeue_processing(
    persona, request, client_for, author, moderator, make_video
):
    video = make_video(status=VideoStatus.FAILED, failure_reason="ffmpeg said no")
    caller = request.getfixturevalue(persona) if persona else None
    for path in ("processing", "requeue"):
        method = "get" if path == "processing" else "post"
        response = getattr(client_for(caller), method)(f"/api/videos/{video.pk}/{path}")
        if caller is None:
            assert_error_envelope(response, 401, "UNAUTHORIZED")
        else:  # a failed video is not listed: it does not exist for them
            assert_error_envelope(response, 404, "NOT_FOUND")
    state = client_for(moderator).get(f"/api/videos/{video.pk}/processing").json()
    assert state["failure_reason"] == "ffmpeg said no" and state["can_requeue"]


def test_a_ready_video_has_nothing_to_requeue_and_hides_its_job_from_others(
    client_for, author, viewer, make_video
):
    video = make_video()
    assert_error_envelope(
        client_for(author).post(f"/api/videos/{video.pk}/requeue"), 409, "CONFLICT"
    )
    assert_error_envelope(
        client_for(viewer).get(f"/api/videos/{video.pk}/processing"), 403, "FORBIDDEN"
    )


def test_a_moderator_requeues_failed_videos_from_the_admin(client, moderator, make_video):
    failed = make_video(status=VideoStatus.FAILED, failure_reason="gone wrong")
    ready = make_video()
    client.force_login(moderator)
    response = client.post(
        "/admin/videos/video/",
        {"action": "requeue_processing", "_selected_action": [failed.pk, ready.pk]},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 video(s) re-queued." in text
    assert "Only a failed or stuck video can be re-queued." in text
    failed.refresh_from_db()
    assert failed.status == VideoStatus.PROCESSING and failed.processing_token
    assert DBTaskResult.objects.get().args_kwargs["kwargs"]["video_id"] == failed.pk
