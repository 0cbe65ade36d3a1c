"""A worker killed in the middle of a transcode: the job is re-queued or failed, never left
`processing` for ever.

Real `manage.py worker` processes run against the test's database and media. The first one
takes a 60-second 720p upload and, once it reports progress, is killed with SIGKILL together
with its ffmpeg (its process group, as when a container or a machine dies): it tidies nothing
up. A second worker's maintenance sweep notices the silent run after
VIDEO_PROCESSING_STALL_SECONDS and re-queues it, and the video ends `ready`; or, once the run
has been started VIDEO_PROCESSING_MAX_ATTEMPTS times, marks it `failed` with the reason. The
dead run's task row does not stay RUNNING either.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django_tasks_db.models import DBTaskResult

from videohost.testing_servers import BASE_DIR, app_env, database_url_for_subprocess, wait_for
from videos import services
from videos.media_tools import generate_clip
from videos.models import Video, VideoStatus

STALL_SECONDS = 3


@pytest.fixture(scope="module")
def long_clip():
    """A minute of 720p: a transcode at x264's `medium` preset takes a while."""
    with tempfile.TemporaryDirectory(prefix="videohost-long-clip-") as folder:
        yield generate_clip(Path(folder) / "long.mp4", seconds=60, size="1280x720")


def upload(author, clip: Path) -> Video:
    handle = TemporaryUploadedFile("long.mp4", "video/mp4", clip.stat().st_size, None)
    with open(clip, "rb") as source:
        while chunk := source.read(1024 * 1024):
            handle.write(chunk)
    handle.seek(0)
    try:
        return services.video_upload(user=author, uploaded_file=handle, title="A long one")
    finally:
        handle.close()  # storage moved the file away; Django's close() allows for that


class Worker:
    """`manage.py worker` in its own process group, so that killing it takes its ffmpeg too."""

    def __init__(self, log: Path, **env: str):
        self.log = log
        self.env = app_env(
            database_url=database_url_for_subprocess(),
            VIDEO_RENDITIONS="360",
            VIDEO_PROCESSING_STALL_SECONDS=str(STALL_SECONDS),
            WORKER_SWEEP_INTERVAL="1",
            LOG_LEVEL="INFO",
            **env,
        )
        self.process = None

    def start(self) -> "Worker":
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "manage.py", "worker", "--no-reload", "--interval", "0.5"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@pytest.fixture
def workers(transactional_db, tmp_path):
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(tmp_path / f"worker-{len(started)}.log", **env)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.kill()  # group and all: no ffmpeg left running
    for worker in started:
        print(worker.log.read_text(errors="replace")[-3000:])


def ffmpeg_in_group(group: int) -> bool:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            name, fields = stat.read_text().rsplit(")", 1)
        except OSError:
            continue
        state, _, pgrp = fields.split()[:3]
        if name.endswith("(ffmpeg") and state != "Z" and int(pgrp) == group:
            return True
    return False


def kill_mid_transcode(start_worker, video: Video) -> str:
    """Start a slow worker, kill it (and its ffmpeg) well into the transcode; the killed
    run's token. (ffmpeg's percent may stay 0 until the end, so "under way" is its process
    running and the run's heartbeat moving.)"""
    first = start_worker(VIDEO_X264_PRESET="medium")
    wait_for(
        lambda: ffmpeg_in_group(first.process.pid),
        timeout=60,
        interval=0.1,
        what="the first worker to start ffmpeg",
    )
    beat = Video.objects.get(pk=video.pk).processing_heartbeat_at
    wait_for(
        lambda: Video.objects.get(pk=video.pk).processing_heartbeat_at > beat,
        timeout=STALL_SECONDS * 2,
        interval=0.1,
        what="a heartbeat while ffmpeg runs",
    )
    first.kill()
    wait_for(lambda: not ffmpeg_in_group(first.process.pid), timeout=5, what="ffmpeg to die")
    video.refresh_from_db()
    assert video.status == VideoStatus.PROCESSING and video.processing_progress < 100
    assert video.processing_attempts == 1
    assert DBTaskResult.objects.running().count() == 1  # nobody left to finish it
    return video.processing_token


def test_a_run_whose_worker_was_killed_is_requeued_and_the_video_ends_ready(
    author, long_clip, workers
):
    video = upload(author, long_clip)
    killed_token = kill_mid_transcode(workers, video)

    started = time.monotonic()
    workers(VIDEO_X264_PRESET="ultrafast")
    wait_for(
        lambda: Video.objects.get(pk=video.pk).status != VideoStatus.PROCESSING,
        timeout=120,
        interval=0.5,
        what="the second worker to re-queue and finish the video",
    )
    video.refresh_from_db()
    assert video.status == VideoStatus.READY, video.failure_reason
    assert video.processing_token != killed_token
    assert video.processing_attempts == 2
    assert video.hls_playlist
    assert video.file.storage.exists(video.hls_playlist)
    rows = {row.args_kwargs["kwargs"]["token"]: row for row in DBTaskResult.objects.all()}
    assert rows[killed_token].status == "FAILED"
    assert rows[killed_token].exception_class_path.endswith("WorkerLost")
    assert rows[video.processing_token].status == "SUCCESSFUL"
    print(f"re-queued and processed in {time.monotonic() - started:.1f} s")


def test_a_run_killed_once_too_often_ends_failed_with_the_reason(author, long_clip, workers):
    video = upload(author, long_clip)
    killed_token = kill_mid_transcode(workers, video)

    workers(VIDEO_PROCESSING_MAX_ATTEMPTS="1")
    wait_for(
        lambda: Video.objects.get(pk=video.pk).status != VideoStatus.PROCESSING,
        timeout=30,
        interval=0.2,
        what="the second worker's sweep to give up on the video",
    )
    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "stopped without finishing 1 time " in video.failure_reason
    assert "Re-queue it" in video.failure_reason
    row = DBTaskResult.objects.get()
    assert row.args_kwargs["kwargs"]["token"] == killed_token
    wait_for(
        lambda: DBTaskResult.objects.get(pk=row.pk).status == "FAILED",
        timeout=10,
        what="the dead run's task row to be marked failed",
    )
    assert not DBTaskResult.objects.ready().exists()  # nothing queued again
