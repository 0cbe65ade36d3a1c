"""Every write to videos and ads: upload, edit, delete, moderation, view counts, ads.

Callers (the API, the pages, the admin) pass plain values; the rules and the domain errors
live here. File removal on delete is in videos/signals.py so cascades clean up too.
"""

import logging
import os
import re
import secrets
import tempfile
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import av
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, connections, transaction
from django.db.models import F
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from accounts.models import User
from videohost.errors import (
    Conflict,
    InvalidInput,
    NotAllowed,
    PayloadTooLarge,
    UnsupportedMedia,
)
from videos.media_tools import NotAVideo, ProbeResult, extract_thumbnail, probe_video
from videos.models import AccessLevel, Ad, Video, VideoStatus
from videos.policies import (
    Viewer,
    can_manage,
    can_requeue,
    retry_after_lost_worker,
    worker_died_mid_run,
)
from videos.processing import PLAYLIST, TranscodeError, transcode
from videos.selectors import channel_for_upload, viewer_for
from videos.uploads import too_large_message

logger = logging.getLogger(__name__)

TITLE_MAX_LENGTH = Video._meta.get_field("title").max_length
DESCRIPTION_MAX_LENGTH = Video._meta.get_field("description").max_length
REQUIRED = "This field is required."


def _field_errors(
    *, title: str | None, description: str | None, access_level: str | None
) -> dict[str, list[str]]:
    """Per-field messages for the values given (None means "not being set")."""
    errors: dict[str, list[str]] = {}
    if title is not None:
        if not title.strip():
            errors["title"] = ["This field may not be blank."]
        elif len(title) > TITLE_MAX_LENGTH:
            errors["title"] = [f"Ensure this field has no more than {TITLE_MAX_LENGTH} characters."]
    if description is not None and len(description) > DESCRIPTION_MAX_LENGTH:
        errors["description"] = [
            f"Ensure this field has no more than {DESCRIPTION_MAX_LENGTH} characters."
        ]
    if access_level is not None and access_level not in AccessLevel.values:
        errors["access_level"] = [f'"{access_level}" is not a valid choice.']
    return errors


def _check_fields(**values: str | None) -> None:
    errors = _field_errors(**values)
    if errors:
        raise InvalidInput(next(iter(errors.values()))[0], details=errors)


def _require_owner(*, video: Video, actor: User, action: str) -> None:
    viewer = Viewer(
        is_authenticated=bool(getattr(actor, "is_authenticated", False)),
        is_owner=video.channel.owner_id == getattr(actor, "pk", None),
    )
    if not can_manage(viewer=viewer):
        raise NotAllowed(f"Only the channel's owner can {action} this video.")


@contextmanager
def _local_path(uploaded_file: UploadedFile) -> Iterator[str]:
    """A path FFmpeg can open: the upload's own temporary file, else a copy made in chunks."""
    if hasattr(uploaded_file, "temporary_file_path"):
        yield uploaded_file.temporary_file_path()
        return
    with tempfile.NamedTemporaryFile(prefix="videohost-upload-", suffix=".bin") as copy:
        uploaded_file.seek(0)
        for chunk in uploaded_file.chunks():
            copy.write(chunk)
        copy.flush()
        yield copy.name


def _probe_and_thumbnail(path: str) -> tuple[ProbeResult, bytes]:
    try:
        probe = probe_video(path)
        thumbnail = extract_thumbnail(path, duration=probe.duration)
    except NotAVideo as exc:
        raise UnsupportedMedia(str(exc)) from None
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise UnsupportedMedia(
            f"The file could not be read as a video ({exc.__class__.__name__})."
        ) from None
    return probe, thumbnail


def _delete_quietly(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        # Cleanup must not mask the error that caused it; an orphan file is logged instead.
        logger.exception("Could not delete %s from storage", name)


def video_upload(
    *,
    user: User,
    uploaded_file: UploadedFile,
    title: str,
    description: str = "",
    access_level: str = AccessLevel.PUBLIC,
    has_ads: bool = False,
) -> Video:
    """Store a new video in the caller's channel after proving it is a playable video.

    The content is probed (the name and the client's content type prove nothing) and the
    duration, size and dimensions come from the probe, never from the client. Stored names
    are generated under the video's random media key. Nothing is left in storage if any
    step fails.
    """
    channel = channel_for_upload(user=user)
    _check_fields(title=title, description=description, access_level=access_level)
    if uploaded_file.size is not None and uploaded_file.size > settings.MAX_UPLOAD_SIZE:
        raise PayloadTooLarge(too_large_message())

    with _local_path(uploaded_file) as path:
        probe, thumbnail = _probe_and_thumbnail(path)

    video = Video(
        channel=channel,
        title=title.strip(),
        description=description,
        access_level=access_level,
        has_ads=has_ads,
        # Listed once the worker has made its HLS ladder (video_process).
        status=VideoStatus.PROCESSING,
        duration=probe.duration,
        width=probe.width,
        height=probe.height,
        mime_type=probe.mime_type,
        file_size=uploaded_file.size,
    )
    thumbnail_name = f"videos/{video.media_key}/thumbnail.jpg"
    original_name = f"videos/{video.media_key}/original{probe.extension}"
    # Listed before writing, so a write that fails half-way is cleaned up as well.
    written = [(video.thumbnail.storage, thumbnail_name), (video.file.storage, original_name)]
    try:
        with transaction.atomic():
            video.thumbnail.save(thumbnail_name, ContentFile(thumbnail), save=False)
            uploaded_file.seek(0)
            # On local storage a TemporaryUploadedFile is moved, not copied: no second write.
            video.file.save(original_name, uploaded_file, save=False)
            written += [
                (video.thumbnail.storage, video.thumbnail.name),
                (video.file.storage, video.file.name),
            ]
            _enqueue_processing(video)
            video.save()
            transaction.on_commit(
                partial(logger.info, "Video %s uploaded to channel %s", video.pk, channel.pk)
            )
    except BaseException:
        for storage, name in dict.fromkeys(written):
            _delete_quietly(storage, name)
        raise
    return video


# --- Processing -------------------------------------------------------------------------------


class Superseded(Exception):
    """The video was re-queued or deleted while this run worked: its output is not wanted."""


def _enqueue_processing(video: Video, *, reset_attempts: bool = True) -> None:
    """Give `video` a fresh job (the caller saves it) and queue the job once that commits.
    A person's upload or re-queue starts the count of attempts afresh; the worker's
    automatic re-queue after a lost worker keeps it (videos_recover_lost_runs)."""
    from videos.tasks import process_video

    video.status = VideoStatus.PROCESSING
    video.failure_reason = ""
    if reset_attempts:
        video.processing_attempts = 0
    video.processing_token = secrets.token_hex(16)
    video.processing_progress = 0
    video.processing_requested_at = timezone.now()
    video.processing_heartbeat_at = None
    # On commit: a worker must find the row, and a rolled-back upload must queue nothing.
    transaction.on_commit(
        partial(process_video.enqueue, video_id=video.pk, token=video.processing_token)
        if video.pk
        else partial(_enqueue_saved, video)
    )


def _enqueue_saved(video: Video) -> None:
    from videos.tasks import process_video

    process_video.enqueue(video_id=video.pk, token=video.processing_token)


@transaction.atomic
def video_requeue(*, video: Video, actor: User) -> Video:
    """Run processing again for a failed or stuck video (its owner or staff)."""
    video = Video.objects.select_for_update().select_related("channel").get(pk=video.pk)
    viewer = viewer_for(actor, video.channel)
    if not can_requeue(
        viewer=viewer,
        status=video.status,
        last_sign_of_life=video.processing_heartbeat_at or video.processing_requested_at,
        now=timezone.now(),
        stall_seconds=settings.VIDEO_PROCESSING_STALL_SECONDS,
    ):
        if not (viewer.is_owner or viewer.is_staff):
            raise NotAllowed("Only the channel's owner or a moderator can re-queue this video.")
        raise Conflict("Only a failed or stuck video can be re-queued.")
    _enqueue_processing(video)
    video.save(
        update_fields=[
            "status",
            "failure_reason",
            "processing_token",
            "processing_progress",
            "processing_requested_at",
            "processing_heartbeat_at",
            "processing_attempts",
            "updated_at",
        ]
    )
    logger.info("Video %s re-queued by %s", video.pk, actor.pk)
    return video


class WorkerLost(Exception):
    """Recorded on the task row of a run whose worker died (killed, crashed, machine gone)."""


def _fail_lost_task_rows(*, video_id: int, token: str) -> int:
    """The django-tasks row of a run whose worker died stays RUNNING for ever (nobody is left
    to finish it): mark it failed, so the queue's state tells the truth."""
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.running().filter(
        task_path=process_video_task_path(),
        args_kwargs__kwargs__video_id=video_id,
        args_kwargs__kwargs__token=token,
    )
    failed = 0
    for row in rows:
        row.set_failed(WorkerLost(f"The worker running video {video_id}'s job stopped."))
        failed += 1
    return failed


def process_video_task_path() -> str:
    from videos.tasks import process_video

    return process_video.module_path


@transaction.atomic
def _recover_lost_run(*, video_id: int, now: datetime) -> str | None:
    video = Video.objects.select_for_update().filter(pk=video_id).first()
    if video is None or not worker_died_mid_run(
        status=video.status,
        heartbeat_at=video.processing_heartbeat_at,
        now=now,
        stall_seconds=settings.VIDEO_PROCESSING_STALL_SECONDS,
    ):
        return None  # finished, re-queued or beating again since the sweep looked
    lost_token = video.processing_token
    transaction.on_commit(partial(_fail_lost_task_rows, video_id=video.pk, token=lost_token))
    if retry_after_lost_worker(
        attempts=video.processing_attempts, max_attempts=settings.VIDEO_PROCESSING_MAX_ATTEMPTS
    ):
        _enqueue_processing(video, reset_attempts=False)
        video.save()
        logger.warning(
            "Video %s: its worker stopped mid-run (attempt %s); re-queued",
            video.pk,
            video.processing_attempts,
        )
        return "requeued"
    video.status = VideoStatus.FAILED
    runs = video.processing_attempts
    video.failure_reason = (
        f"Processing stopped without finishing {runs} time{'s' if runs != 1 else ''} (the "
        "worker running it was stopped or crashed). Re-queue it to try again."
    )
    video.processing_token = ""  # a worker still holding the old run cannot publish it
    video.save(update_fields=["status", "failure_reason", "processing_token", "updated_at"])
    logger.warning("Video %s: %s", video.pk, video.failure_reason)
    return "failed"


def videos_recover_lost_runs(*, now: datetime | None = None) -> dict[str, int]:
    """The worker's sweep: every run whose worker died (silent for
    VIDEO_PROCESSING_STALL_SECONDS) is re-queued, or marked failed with the reason once it
    has been started VIDEO_PROCESSING_MAX_ATTEMPTS times. Several workers may sweep at once:
    each video is re-checked under its row lock, so it is handled once."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VIDEO_PROCESSING_STALL_SECONDS)
    candidates = Video.objects.filter(
        status=VideoStatus.PROCESSING, processing_heartbeat_at__lte=cutoff
    ).values_list("pk", flat=True)
    outcomes = {"requeued": 0, "failed": 0}
    for video_id in list(candidates):
        outcome = _recover_lost_run(video_id=video_id, now=now)
        if outcome:
            outcomes[outcome] += 1
    return outcomes


def _current_run(video_id: int, token: str):
    return Video.objects.filter(pk=video_id, processing_token=token)


# Upper bound of the time between two heartbeats of a running job.
HEARTBEAT_MAX_SECONDS = 30


@contextmanager
def _showing_life(video_id: int, token: str) -> Iterator[None]:
    """Beat the run's heartbeat from a thread while the body runs. Progress reports are not
    enough: ffmpeg holds its `-progress` output back until every output has started, and the
    sprite's tile output starts only at the end, so a long transcode can report nothing until
    it is done; downloading the original and storing the ladder report nothing either. The
    worker's sweep takes a run silent for VIDEO_PROCESSING_STALL_SECONDS for a dead one."""
    interval = max(0.5, min(HEARTBEAT_MAX_SECONDS, settings.VIDEO_PROCESSING_STALL_SECONDS / 4))
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait(interval):
                try:
                    if not _current_run(video_id, token).update(
                        processing_heartbeat_at=timezone.now()
                    ):
                        return  # superseded: the run finds out at its next progress report
                except DatabaseError:
                    logger.warning("Heartbeat of video %s failed; retrying", video_id)
        finally:
            connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=beat, name=f"heartbeat-video-{video_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _record_progress(video_id: int, token: str, percent: int) -> None:
    if not _current_run(video_id, token).update(
        processing_progress=percent, processing_heartbeat_at=timezone.now()
    ):
        raise Superseded


@contextmanager
def _local_copy(storage: Storage, name: str) -> Iterator[str]:
    """A local path to a stored file: the file itself on local storage, else a download."""
    try:
        yield storage.path(name)
        return
    except NotImplementedError:
        pass
    with tempfile.NamedTemporaryFile(prefix="videohost-source-", suffix=Path(name).suffix) as copy:
        bucket = getattr(storage, "bucket", None)
        if bucket is not None:
            # S3: straight to this file. storage.open() would first spool the whole object to
            # a temporary file of its own, and the copy would then need the space twice.
            bucket.download_fileobj(storage._normalize_name(name), copy)
        else:
            with storage.open(name, "rb") as source:
                for chunk in source.chunks():
                    copy.write(chunk)
        copy.flush()
        yield copy.name


def storage_delete_folder(storage: Storage, folder: str) -> None:
    """Delete every file under `folder` (and, on local disks, the emptied folders)."""
    try:
        folders, files = storage.listdir(folder)
    except (FileNotFoundError, NotADirectoryError):
        return
    for name in files:
        _delete_quietly(storage, f"{folder.rstrip('/')}/{name}")
    for child in folders:
        storage_delete_folder(storage, f"{folder.rstrip('/')}/{child}")
    try:
        os.rmdir(storage.path(folder))
    except (NotImplementedError, OSError):
        pass  # object stores have no folders; a local one still holding files stays


def _store_tree(*, local: Path, storage: Storage, prefix: str, skip: set[str]) -> None:
    for path in sorted(local.rglob("*")):
        relative = path.relative_to(local).as_posix()
        if not path.is_file() or relative in skip:
            continue
        name = f"{prefix}{relative}"
        with path.open("rb") as handle:
            saved = storage.save(name, File(handle, name=path.name))
        if saved != name:
            # The run folder is new and named by the job's token: a clash means a bug.
            raise OSError(f"Storage renamed {name} to {saved}")


def video_process(*, video_id: int, token: str) -> str:
    """The background job: probe the original again, transcode it to the HLS ladder and a
    scrub sprite, store the output, and publish it — or record why it failed.

    Output goes to a folder named after the job's token and is published in one row update,
    so a viewer never sees half a ladder, and a superseded or deleted video's run removes
    what it wrote. Returns the outcome ("ready", "failed" or "superseded").
    """
    video = Video.objects.filter(pk=video_id, processing_token=token).first()
    if video is None:
        return "superseded"
    if video.status != VideoStatus.PROCESSING:
        return video.status  # this job ran already (a duplicate delivery): nothing to redo
    if not _current_run(video_id, token).update(
        processing_progress=0,
        processing_heartbeat_at=timezone.now(),
        processing_attempts=F("processing_attempts") + 1,
    ):
        return "superseded"
    private = video.file.storage
    run = token[:12]
    hls_prefix = f"{video.storage_prefix}hls-{run}/"
    sprite_name = f"{video.storage_prefix}sprite-{run}.jpg"

    def discard_output() -> None:
        storage_delete_folder(private, hls_prefix.rstrip("/"))
        _delete_quietly(private, sprite_name)

    try:
        with (
            _showing_life(video_id, token),
            _local_copy(private, video.file.name) as source,
            tempfile.TemporaryDirectory(prefix="videohost-hls-") as workdir,
        ):
            probe = probe_video(source)
            ladder, sprite = transcode(
                source=source,
                output=workdir,
                width=probe.width,
                height=probe.height,
                duration=probe.duration,
                has_audio=probe.has_audio,
                heights=settings.VIDEO_RENDITIONS,
                on_progress=partial(_record_progress, video_id, token),
                timeout=settings.VIDEO_PROCESSING_TIMEOUT,
                preset=settings.VIDEO_X264_PRESET,
            )
            _store_tree(
                local=Path(workdir), storage=private, prefix=hls_prefix, skip={"sprite.jpg"}
            )
            with open(Path(workdir) / "sprite.jpg", "rb") as handle:
                if private.save(sprite_name, File(handle, name="sprite.jpg")) != sprite_name:
                    raise OSError(f"Storage renamed {sprite_name}")
    except Superseded:
        discard_output()
        return "superseded"
    except (NotAVideo, TranscodeError, OSError, av.error.FFmpegError) as exc:
        discard_output()
        reason = (
            str(exc)
            if isinstance(exc, NotAVideo | TranscodeError)
            else (f"The file could not be processed ({exc.__class__.__name__}).")
        )
        logger.warning("Processing video %s failed: %s", video_id, reason)
        _current_run(video_id, token).update(
            status=VideoStatus.FAILED,
            failure_reason=reason,
            processing_heartbeat_at=timezone.now(),
        )
        return "failed"
    except BaseException:
        discard_output()
        _current_run(video_id, token).update(
            status=VideoStatus.FAILED,
            failure_reason="Processing stopped on an internal error; re-queue it to try again.",
        )
        raise

    with transaction.atomic():
        current = _current_run(video_id, token).select_for_update().first()
        if current is None:
            transaction.on_commit(discard_output)
            return "superseded"
        previous_playlist, previous_sprite = current.hls_playlist, current.sprite.name
        current.status = VideoStatus.READY
        current.processing_progress = 100
        current.processed_at = current.processing_heartbeat_at = timezone.now()
        current.hls_playlist = f"{hls_prefix}{PLAYLIST}"
        current.renditions = [rendition.as_dict() for rendition in ladder]
        current.sprite.name = sprite_name
        current.sprite_info = sprite.as_dict()
        current.duration, current.width, current.height = (
            probe.duration,
            probe.width,
            probe.height,
        )
        current.save()
        if previous_playlist:
            old_folder = previous_playlist.rsplit("/", 1)[0]
            transaction.on_commit(partial(storage_delete_folder, private, old_folder))
        if previous_sprite and previous_sprite != sprite_name:
            transaction.on_commit(partial(_delete_quietly, private, previous_sprite))
    logger.info("Video %s processed: %s", video_id, ", ".join(r.name for r in ladder))
    return "ready"


@transaction.atomic
def video_update(
    *,
    video: Video,
    actor: User,
    title: str | None = None,
    description: str | None = None,
    access_level: str | None = None,
    has_ads: bool | None = None,
) -> Video:
    """Edit a video's details (its channel's owner only); None leaves a field unchanged."""
    _require_owner(video=video, actor=actor, action="edit")
    _check_fields(title=title, description=description, access_level=access_level)
    changes = {
        "title": title.strip() if title is not None else None,
        "description": description,
        "access_level": access_level,
        "has_ads": has_ads,
    }
    changed = [field for field, value in changes.items() if value is not None]
    for field in changed:
        setattr(video, field, changes[field])
    if changed:
        video.save(update_fields=[*changed, "updated_at"])
    return video


@transaction.atomic
def video_delete(*, video: Video, actor: User) -> None:
    """Delete a video (its channel's owner only); its files go once the deletion commits."""
    _require_owner(video=video, actor=actor, action="delete")
    video.delete()


@transaction.atomic
def video_set_hidden(*, video: Video, hidden: bool, by: User) -> Video:
    """Moderation: a hidden video leaves listings and playback for all but owner and staff."""
    if not (getattr(by, "is_authenticated", False) and by.is_staff):
        raise NotAllowed("Only moderators can hide or unhide videos.")
    if video.is_hidden != hidden:
        video.is_hidden = hidden
        video.save(update_fields=["is_hidden", "updated_at"])
        logger.info("Video %s %s by %s", video.pk, "hidden" if hidden else "unhidden", by.pk)
    return video


def video_record_view(*, video: Video) -> None:
    """Count one page view; an UPDATE with F() so concurrent views are never lost."""
    Video.objects.filter(pk=video.pk).update(view_count=F("view_count") + 1)
    # Keeps the page showing this view without another query; the row holds the exact total.
    video.view_count += 1


# --- Ads ------------------------------------------------------------------------------------

AD_IMAGE_FORMATS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}
# What every browser's <video> plays, since ads run in the site's own player.
AD_VIDEO_TYPES = {"video/mp4", "video/webm"}


# Ad creatives are stored and served as uploaded (public/ads/), so beyond being real media they
# must hold nothing else a browser or an unpacker would act on: markup (a GIF with a page behind
# it or in a comment, an SVG) or a ZIP archive (found from the file's end, as unzip and JAR
# loaders find it). The markers are long enough that compressed media hit one by chance about
# once in 10^10 bytes. Uploaded videos are not scanned: they are private, re-encoded for
# playback, and up to 2 GiB, where chance hits would refuse real videos; avatars are re-encoded.
EMBEDDED_MARKUP = re.compile(
    rb"<(?:script|html|body|iframe|!doctype|svg[\s/>])|javascript:", re.IGNORECASE
)
SCAN_CHUNK = 1024 * 1024
SCAN_OVERLAP = 16  # longer than any marker, so none is missed across two chunks


def _refuse_hidden_payload(upload: UploadedFile) -> None:
    try:
        upload.seek(0)
        if zipfile.is_zipfile(upload):
            raise UnsupportedMedia("The file has a ZIP archive inside; upload the media alone.")
        upload.seek(0)
        tail = b""
        while chunk := upload.read(SCAN_CHUNK):
            if EMBEDDED_MARKUP.search(tail + chunk):
                raise UnsupportedMedia("The file holds HTML or script; upload the media alone.")
            tail = chunk[-SCAN_OVERLAP:]
    finally:
        upload.seek(0)


def _check_ad_size(upload: UploadedFile) -> None:
    if upload.size is not None and upload.size > settings.MAX_AD_SIZE:
        limit_mib = settings.MAX_AD_SIZE / (1024 * 1024)
        raise PayloadTooLarge(f"The file is larger than the {limit_mib:g} MiB allowed.")


def ad_image_check(*, upload: UploadedFile) -> str:
    """Prove `upload` is a real image of an allowed format; returns the extension to store.

    Pillow reads the content, so an HTML page or a script named ".png" is refused.
    """
    _check_ad_size(upload)
    try:
        upload.seek(0)
        with Image.open(upload) as picture:
            kind = picture.format
            picture.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnsupportedMedia("The file is not a readable image.") from None
    finally:
        upload.seek(0)
    if kind not in AD_IMAGE_FORMATS:
        raise UnsupportedMedia("Use a JPEG, PNG, WebP or GIF image.")
    _refuse_hidden_payload(upload)
    return AD_IMAGE_FORMATS[kind]


def ad_video_check(*, upload: UploadedFile) -> str:
    """Prove `upload` is a complete MP4 or WebM video; returns the extension to store."""
    _check_ad_size(upload)
    with _local_path(upload) as path:
        try:
            probe = probe_video(path)
        except NotAVideo as exc:
            raise UnsupportedMedia(f"Not a playable video: {exc}") from None
    upload.seek(0)
    if probe.mime_type not in AD_VIDEO_TYPES:
        raise UnsupportedMedia("Use an MP4 or WebM video.")
    _refuse_hidden_payload(upload)
    return probe.extension


@transaction.atomic
def ad_create(
    *,
    title: str,
    target_url: str,
    image: UploadedFile | None = None,
    video: UploadedFile | None = None,
    is_active: bool = True,
) -> Ad:
    """A pre-roll ad with exactly one creative, checked by content and stored under a random
    name whose extension comes from that content."""
    if bool(image) == bool(video):
        raise InvalidInput("Give either an image or a short video, not both or neither.")
    if image:
        image.name = f"ad{ad_image_check(upload=image)}"
    else:
        video.name = f"ad{ad_video_check(upload=video)}"
    ad = Ad(title=title, target_url=target_url, is_active=is_active)
    try:
        ad.clean_fields(exclude=["image", "video"])
    except ValidationError as exc:
        raise InvalidInput(
            next(iter(exc.message_dict.values()))[0], details=exc.message_dict
        ) from None
    creative = ad.image if image else ad.video
    creative.save(image.name if image else video.name, image or video, save=False)
    try:
        ad.save()
    except BaseException:
        _delete_quietly(creative.storage, creative.name)
        raise
    return ad
