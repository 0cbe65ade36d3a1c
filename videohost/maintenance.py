"""The background worker's maintenance sweep: what nobody else is left to tidy up.

`manage.py worker` runs it every WORKER_SWEEP_INTERVAL seconds beside the jobs. Every part is
safe to run from several workers at once (each re-checks under a row or file lock) and again
after a crash, so a deployment needs no cron line:

- processing runs whose worker died are re-queued, then failed after a few attempts
  (videos.services.videos_recover_lost_runs), and task rows left RUNNING by a dead worker are
  marked failed;
- rooms whose host did not come back in time are closed (rooms.services.host_grace_expire_all,
  also `manage.py expire_abandoned_rooms`);
- abandoned resumable uploads are deleted, at most hourly (uploads.services.uploads_expire,
  also `manage.py cleanup_uploads`).
"""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

logger = logging.getLogger("videohost.maintenance")

UPLOADS_EVERY = 3600  # seconds: old uploads age by the day, no need to look each minute


def tasks_fail_abandoned(*, now: datetime | None = None) -> int:
    """Task rows RUNNING for longer than any job may run (a transcode is stopped at
    VIDEO_PROCESSING_TIMEOUT): their worker died. Mark them failed rather than leave them
    RUNNING for ever."""
    from django_tasks_db.models import DBTaskResult

    from videos.services import WorkerLost

    limit = settings.VIDEO_PROCESSING_TIMEOUT + settings.VIDEO_PROCESSING_STALL_SECONDS
    cutoff = (now or timezone.now()) - timedelta(seconds=limit)
    failed = 0
    for row in DBTaskResult.objects.running().filter(started_at__lt=cutoff):
        row.set_failed(WorkerLost(f"Still running after {limit} s: its worker is gone."))
        failed += 1
    return failed


class Sweeper:
    """Runs the sweep when due; `last_uploads` remembers when uploads were last expired."""

    def __init__(self) -> None:
        self.last_uploads = -float("inf")

    def sweep(self) -> dict[str, int]:
        from rooms.services import host_grace_expire_all
        from uploads.services import uploads_expire
        from videos.services import videos_recover_lost_runs

        close_old_connections()
        report: dict[str, int] = {}
        parts = [
            ("videos", videos_recover_lost_runs),
            ("tasks_failed", tasks_fail_abandoned),
            ("rooms_closed", host_grace_expire_all),
        ]
        if time.monotonic() - self.last_uploads >= UPLOADS_EVERY:
            self.last_uploads = time.monotonic()
            parts.append(("uploads_deleted", lambda: uploads_expire().uploads))
        for name, run in parts:
            # One failing part (the database away for a moment) must not stop the others,
            # nor the worker: the next sweep tries again.
            try:
                outcome = run()
            except Exception:
                logger.exception("Maintenance step %s failed", name)
                continue
            if isinstance(outcome, dict):
                report.update({f"{name}_{key}": value for key, value in outcome.items()})
            else:
                report[name] = outcome
        close_old_connections()
        if any(report.values()):
            logger.info("Maintenance: %s", report)
        return report
