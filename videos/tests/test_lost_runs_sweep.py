"""The worker's sweep over processing runs (videos.services.videos_recover_lost_runs), with
the clock passed in: which runs count as lost, and what becomes of them.

test_worker_killed_mid_job.py kills real workers; these pin the rules case by case.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from videohost.maintenance import Sweeper, tasks_fail_abandoned
from videos.models import VideoStatus
from videos.services import videos_recover_lost_runs

STALL = 600


@pytest.fixture(autouse=True)
def _stall(settings):
    settings.VIDEO_PROCESSING_STALL_SECONDS = STALL
    settings.VIDEO_PROCESSING_MAX_ATTEMPTS = 3


def processing(make_video, *, beat_ago: float | None, attempts: int = 1):
    now = timezone.now()
    return make_video(
        status=VideoStatus.PROCESSING,
        processing_token="a" * 32,
        processing_requested_at=now - timedelta(hours=1),
        processing_heartbeat_at=None if beat_ago is None else now - timedelta(seconds=beat_ago),
        processing_attempts=attempts,
        processing_progress=40,
    )


def test_a_started_run_silent_for_the_stall_time_is_requeued(
    make_video, django_capture_on_commit_callbacks
):
    video = processing(make_video, beat_ago=STALL + 1)
    with django_capture_on_commit_callbacks(execute=True):
        assert videos_recover_lost_runs() == {"requeued": 1, "failed": 0}
    video.refresh_from_db()
    assert video.status == VideoStatus.PROCESSING
    assert video.processing_token != "a" * 32
    assert video.processing_heartbeat_at is None and video.processing_progress == 0
    assert video.processing_attempts == 1  # counted when a worker starts the new run
    queued = DBTaskResult.objects.ready().get()
    assert queued.args_kwargs["kwargs"] == {"video_id": video.pk, "token": video.processing_token}


def test_a_run_that_beat_recently_is_left_alone(make_video):
    video = processing(make_video, beat_ago=STALL - 5)
    assert videos_recover_lost_runs() == {"requeued": 0, "failed": 0}
    video.refresh_from_db()
    assert video.processing_token == "a" * 32


def test_a_job_still_waiting_in_the_queue_is_not_requeued(make_video):
    """Behind a long queue a job is late, not lost: re-queuing it would send it to the back."""
    video = processing(make_video, beat_ago=None, attempts=0)
    assert videos_recover_lost_runs() == {"requeued": 0, "failed": 0}
    video.refresh_from_db()
    assert video.processing_token == "a" * 32


def test_a_run_lost_as_often_as_allowed_ends_failed_with_the_reason(make_video):
    video = processing(make_video, beat_ago=STALL * 2, attempts=3)
    assert videos_recover_lost_runs() == {"requeued": 0, "failed": 1}
    video.refresh_from_db()
    assert video.status == VideoStatus.FAILED
    assert "stopped without finishing 3 times" in video.failure_reason
    assert video.processing_token == ""  # a worker still on the old run cannot publish it
    assert not DBTaskResult.objects.exists()


def test_the_lost_runs_task_row_is_marked_failed_not_left_running(
    make_video, django_capture_on_commit_callbacks
):
    from videos.tasks import process_video

    video = processing(make_video, beat_ago=STALL + 1)
    row = DBTaskResult.objects.get(pk=process_video.enqueue(video_id=video.pk, token="a" * 32).id)
    row.claim("dead-worker")
    with django_capture_on_commit_callbacks(execute=True):
        videos_recover_lost_runs()
    row.refresh_from_db()
    assert row.status == "FAILED"
    assert row.exception_class_path.endswith("WorkerLost")


def test_any_task_running_longer_than_a_job_may_is_marked_failed(db, settings):
    from uploads.tasks import expire_uploads

    row = DBTaskResult.objects.get(pk=expire_uploads.enqueue().id)
    row.claim("dead-worker")
    limit = settings.VIDEO_PROCESSING_TIMEOUT + settings.VIDEO_PROCESSING_STALL_SECONDS
    assert tasks_fail_abandoned(now=timezone.now() + timedelta(seconds=limit - 60)) == 0
    assert tasks_fail_abandoned(now=timezone.now() + timedelta(seconds=limit + 60)) == 1
    row.refresh_from_db()
    assert row.status == "FAILED"


@pytest.mark.django_db(transaction=True)  # the sweep closes old connections, as a worker does
def test_the_sweep_reports_each_part_and_survives_a_failing_one(make_video, monkeypatch):
    import videos.services

    processing(make_video, beat_ago=STALL + 1)

    def broken(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(videos.services, "videos_recover_lost_runs", broken)
    report = Sweeper().sweep()
    assert "videos_requeued" not in report
    assert report["rooms_closed"] == 0 and report["tasks_failed"] == 0
    assert "uploads_deleted" in report
