"""Who may watch a video, and who sees ads: the one place these rules live.

Pure functions over plain inputs (no queries), so the API, the byte-serving views, the pages,
the room consumer and the templates all ask the same question and get the same answer.
`selectors.viewer_for` builds the `Viewer` from the database.
"""

from dataclasses import dataclass
from datetime import datetime

from videos.models import AccessLevel, VideoStatus


@dataclass(frozen=True, slots=True)
class Viewer:
    """What the rules need to know about the caller's relation to one channel."""

    is_authenticated: bool = False
    is_staff: bool = False
    is_owner: bool = False
    is_subscribed: bool = False
    is_sponsor: bool = False


ANONYMOUS = Viewer()


def can_watch(*, access_level: str, viewer: Viewer) -> bool:
    if access_level == AccessLevel.PUBLIC:
        return True
    if not viewer.is_authenticated:
        return False
    if viewer.is_owner or viewer.is_staff:
        return True
    if not viewer.is_subscribed:
        return False
    if access_level == AccessLevel.SUBSCRIBER:
        return True
    return access_level == AccessLevel.SPONSOR and viewer.is_sponsor


def show_ads(*, has_ads: bool, access_level: str, viewer: Viewer) -> bool:
    if not has_ads:
        return False
    if access_level != AccessLevel.PUBLIC:
        return False
    if not viewer.is_authenticated:
        return True
    if viewer.is_owner:
        return False
    return not viewer.is_sponsor


def can_manage(*, viewer: Viewer) -> bool:
    """Edit or delete a video: its channel's owner only (staff moderate in the admin)."""
    return viewer.is_authenticated and viewer.is_owner


def can_see_unlisted(*, viewer: Viewer) -> bool:
    """Videos still processing, failed or hidden are visible to their owner and to staff."""
    return viewer.is_authenticated and (viewer.is_owner or viewer.is_staff)


def processing_is_stalled(
    *, status: str, last_sign_of_life: datetime | None, now: datetime, stall_seconds: int
) -> bool:
    """A processing job with no sign of life (queued, or progress) for `stall_seconds`: its
    worker died or never picked it up."""
    if status != VideoStatus.PROCESSING:
        return False
    return last_sign_of_life is None or (now - last_sign_of_life).total_seconds() >= stall_seconds


def worker_died_mid_run(
    *, status: str, heartbeat_at: datetime | None, now: datetime, stall_seconds: int
) -> bool:
    """A run that a worker started (it beats at start and every second of transcoding) and
    that has been silent for `stall_seconds`: its worker was killed or crashed. A job still
    waiting in the queue has no heartbeat and is not this: behind a long queue it is late,
    not lost, and re-queuing it would only send it to the back."""
    return heartbeat_at is not None and processing_is_stalled(
        status=status, last_sign_of_life=heartbeat_at, now=now, stall_seconds=stall_seconds
    )


def retry_after_lost_worker(*, attempts: int, max_attempts: int) -> bool:
    """Re-queue a run whose worker died, or give up: a video that kills its worker every time
    (say, ffmpeg exhausting memory) must end `failed`, not loop forever."""
    return attempts < max_attempts


def can_requeue(
    *,
    viewer: Viewer,
    status: str,
    last_sign_of_life: datetime | None,
    now: datetime,
    stall_seconds: int,
) -> bool:
    """Run processing again: the owner or staff, for a failed or stuck job only (a running
    one would just be done twice)."""
    if not (viewer.is_authenticated and (viewer.is_owner or viewer.is_staff)):
        return False
    return status == VideoStatus.FAILED or processing_is_stalled(
        status=status, last_sign_of_life=last_sign_of_life, now=now, stall_seconds=stall_seconds
    )
