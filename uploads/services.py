"""Every write to resumable uploads: create, append a PATCH's bytes, terminate, finish as a
video, expire.

The bytes go to one file per upload, written in small pieces straight from the request body, so
a server's memory does not grow with the file. An exclusive lock on that file (flock) keeps two
requests from writing the same upload at once, across every process that shares the folder.
"""

import fcntl
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path, PurePath
from typing import BinaryIO, NamedTuple, Protocol

from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from uploads.models import PART_SUFFIX, Upload, upload_path
from videohost.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    UnsupportedMedia,
)
from videohost.outages import outage_of
from videos.models import AccessLevel, Video
from videos.selectors import channel_for_upload
from videos.services import video_upload
from videos.uploads import too_large_message

logger = logging.getLogger(__name__)

# How much of a request body is held in memory at a time.
READ_SIZE = 64 * 1024
SWEEP_INTERVAL = 3600  # seconds between two queued clean-ups of abandoned uploads
FILENAME_MAX_LENGTH = Upload._meta.get_field("filename").max_length


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class UploadBusy(Conflict):
    default_message = "Another request is using this upload right now; try again."


class Cleanup(NamedTuple):
    uploads: int
    orphan_files: int


@contextmanager
def _locked_file(upload: Upload) -> Iterator[BinaryIO]:
    """The upload's file, open for writing and exclusively locked; 409 if someone holds it.

    A file lock rather than a row lock: SQLite has no row locks, and the file is what two
    writers would corrupt. A file gone missing means the upload is gone (its row goes too).
    """
    try:
        descriptor = os.open(upload.path, os.O_RDWR)
    except FileNotFoundError:
        Upload.objects.filter(pk=upload.pk).delete()
        raise NotFound("This upload no longer exists.") from None
    with os.fdopen(descriptor, "r+b") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UploadBusy from None
        try:
            yield file
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _current(upload: Upload) -> Upload:
    """The row as stored now: another process may have moved it on, or terminated it."""
    try:
        return Upload.objects.get(pk=upload.pk)
    except Upload.DoesNotExist:
        raise NotFound("This upload no longer exists.") from None


def _clean_filename(name: str) -> str:
    # Only ever shown back to the owner; a client's path components are dropped all the same.
    return PurePath(name.replace("\\", "/")).name[:FILENAME_MAX_LENGTH]


@transaction.atomic
def upload_create(*, user: User, length: int, metadata: dict[str, str]) -> Upload:
    """Start a resumable upload of `length` bytes for a user who has a channel.

    The size limit applies here, before a single byte is sent.
    """
    channel_for_upload(user=user)
    if length < 0:
        raise InvalidInput("Upload-Length must be a whole number of bytes.")
    if length > settings.MAX_UPLOAD_SIZE:
        raise PayloadTooLarge(too_large_message())
    upload = Upload.objects.create(
        owner=user,
        length=length,
        filename=_clean_filename(metadata.get("filename") or metadata.get("name") or ""),
        metadata=metadata,
    )
    folder = Path(settings.UPLOAD_TEMP_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    # Inside the transaction: if the file cannot be made, no row points at nothing.
    with open(upload.path, "xb"):
        pass
    logger.info("Upload %s of %s bytes started by user %s", upload.pk, length, user.pk)
    transaction.on_commit(_sweep_when_due)
    return upload


def _sweep_when_due() -> None:
    """Queue the clean-up of abandoned uploads at most once per SWEEP_INTERVAL: whoever starts
    an upload pays one cache write, and no deployment depends on a cron line to stay tidy."""
    from uploads.tasks import expire_uploads

    try:
        due = cache.add("uploads:sweep-queued", 1, timeout=SWEEP_INTERVAL)
    except Exception as exc:
        # Redis away: the upload itself is fine (this runs after it committed), and the
        # worker's own hourly sweep deletes abandoned uploads anyway (videohost.maintenance).
        if outage_of(exc) is None:
            raise
        return
    if due:
        expire_uploads.enqueue()


def _read(stream: Readable, size: int) -> bytes:
    try:
        return stream.read(size)
    except OSError:
        # The client went away mid-body. tus asks servers to keep what did arrive, so the
        # client resumes from there instead of resending it.
        return b""


def upload_append(
    *, upload: Upload, offset: int, stream: Readable, declared_length: int | None
) -> Upload:
    """Write one PATCH's body at `offset`, which must be where the upload stands (else 409).

    A declared length that would pass the upload's length is refused before anything is read;
    a body that turns out longer than declared (or undeclared) is refused as soon as it passes
    the length, and none of it is kept.
    """
    if offset != upload.offset:
        raise Conflict(f"Upload-Offset is {offset} but the upload is at byte {upload.offset}.")
    if declared_length is not None and offset + declared_length > upload.length:
        raise PayloadTooLarge(
            f"The chunk would end at byte {offset + declared_length}, past the upload's "
            f"length of {upload.length}."
        )
    with _locked_file(upload) as file:
        upload = _current(upload)
        if offset != upload.offset:
            raise Conflict(f"Upload-Offset is {offset} but the upload is at byte {upload.offset}.")
        room = upload.length - offset
        written = 0
        # Bytes past the offset were written by a request that never recorded them.
        file.truncate(offset)
        file.seek(offset)
        try:
            while chunk := _read(stream, min(READ_SIZE, room - written + 1)):
                written += len(chunk)
                if written > room:
                    raise PayloadTooLarge(
                        f"The data goes past the upload's length of {upload.length} bytes."
                    )
                file.write(chunk)
            file.flush()
            # The offset a HEAD reports is a promise that those bytes survive a crash.
            os.fsync(file.fileno())
        except PayloadTooLarge:
            file.truncate(offset)
            raise
        except OSError:
            logger.exception("Could not write to upload %s", upload.pk)
            file.truncate(offset)
            raise ServiceUnavailable("The server could not store the data; try again.") from None
        now = timezone.now()
        Upload.objects.filter(pk=upload.pk).update(offset=offset + written, updated_at=now)
        upload.offset, upload.updated_at = offset + written, now
    return upload


def _discard(upload: Upload) -> None:
    upload.path.unlink(missing_ok=True)
    Upload.objects.filter(pk=upload.pk).delete()


def upload_terminate(*, upload: Upload) -> None:
    """Delete an upload and its bytes (tus termination)."""
    with _locked_file(upload):
        _discard(upload)
    logger.info("Upload %s terminated", upload.pk)


class CompletedUpload(UploadedFile):
    """A finished upload, handed to `video_upload` like Django's TemporaryUploadedFile: local
    storage moves it into place instead of copying gigabytes."""

    def __init__(self, path: Path, *, name: str, size: int, content_type: str | None):
        super().__init__(
            file=open(path, "rb"),  # closed by the caller, like any UploadedFile
            name=name,
            content_type=content_type,
            size=size,
        )
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def upload_finish(
    *,
    user: User,
    upload: Upload,
    title: str,
    description: str = "",
    access_level: str = AccessLevel.PUBLIC,
    has_ads: bool = False,
) -> Video:
    """Turn a complete upload into a video through `video_upload`, then forget the upload.

    An incomplete upload is a 409. A file that is not a video is refused (415) and its upload
    deleted, since resending the same bytes cannot help; other refusals (say, a bad title)
    keep it, so the client can try again without uploading again.
    """
    with _locked_file(upload):
        upload = _current(upload)
        if not upload.is_complete:
            raise Conflict(
                f"The upload is not complete: {upload.offset} of {upload.length} bytes received."
            )
        file = CompletedUpload(
            upload.path,
            name=upload.filename or "upload",
            size=upload.length,
            content_type=upload.metadata.get("filetype") or None,
        )
        try:
            video = video_upload(
                user=user,
                uploaded_file=file,
                title=title,
                description=description,
                access_level=access_level,
                has_ads=has_ads,
            )
        except UnsupportedMedia:
            _discard(upload)
            raise
        finally:
            file.close()
        # Storage usually moved the file already; one that copies it leaves it for us.
        _discard(upload)
    logger.info("Upload %s became video %s", upload.pk, video.pk)
    return video


def uploads_expire(*, now: datetime | None = None) -> Cleanup:
    """Delete uploads untouched for UPLOAD_EXPIRY_SECONDS, and stray files as old as that.

    Stray files are left by rows that went without their file (a deleted user's uploads
    cascade in the database only). An upload being written right now is skipped.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.UPLOAD_EXPIRY_SECONDS)
    removed = 0
    for upload in Upload.objects.filter(updated_at__lt=cutoff):
        try:
            with _locked_file(upload):
                if _current(upload).updated_at < cutoff:
                    _discard(upload)
                    removed += 1
        except NotFound:
            removed += 1  # gone already, its row with it
        except UploadBusy:
            continue
    orphans = 0
    folder = Path(settings.UPLOAD_TEMP_DIR)
    candidates = {}
    for path in folder.glob(f"*{PART_SUFFIX}") if folder.is_dir() else []:
        try:
            upload_id = uuid.UUID(hex=path.stem)
            modified = datetime.fromtimestamp(path.stat().st_mtime, tz=cutoff.tzinfo)
        except (ValueError, FileNotFoundError):
            continue
        if modified < cutoff:
            candidates[upload_id] = path
    known = set(Upload.objects.filter(pk__in=candidates).values_list("pk", flat=True))
    for upload_id, path in candidates.items():
        if upload_id not in known and upload_path(upload_id) == path:
            path.unlink(missing_ok=True)
            orphans += 1
    if removed or orphans:
        logger.info("Removed %s expired upload(s) and %s stray file(s)", removed, orphans)
    return Cleanup(uploads=removed, orphan_files=orphans)
