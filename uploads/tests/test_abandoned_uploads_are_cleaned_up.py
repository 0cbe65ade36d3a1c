"""`manage.py cleanup_uploads` deletes uploads untouched for UPLOAD_EXPIRY_SECONDS with their
files, and stray partial files; recent uploads, and one being written, survive."""

import fcntl
import io
import os
import uuid
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from uploads.models import Upload, upload_path
from uploads.services import upload_append, upload_create, uploads_expire
from uploads.tests.conftest import stored_parts

pytestmark = pytest.mark.django_db


def age(upload: Upload, seconds: float) -> None:
    """Pretend the upload was last touched `seconds` ago."""
    Upload.objects.filter(pk=upload.pk).update(
        updated_at=timezone.now() - timedelta(seconds=seconds)
    )


def test_the_command_deletes_abandoned_uploads_and_keeps_recent_ones(author, capsys):
    expiry = settings.UPLOAD_EXPIRY_SECONDS
    abandoned = upload_create(user=author, length=100, metadata={})
    upload_append(upload=abandoned, offset=0, stream=io.BytesIO(b"x" * 40), declared_length=40)
    recent = upload_create(user=author, length=100, metadata={})
    age(abandoned, expiry + 60)
    age(recent, expiry - 60)

    call_command("cleanup_uploads")

    assert list(Upload.objects.all()) == [recent]
    assert set(stored_parts()) == {recent.path.name}
    assert "Removed 1 expired upload(s) and 0 stray file(s)." in capsys.readouterr().out


def test_a_patch_keeps_an_upload_alive(author):
    upload = upload_create(user=author, length=100, metadata={})
    age(upload, settings.UPLOAD_EXPIRY_SECONDS + 60)
    upload.refresh_from_db()

    upload_append(upload=upload, offset=0, stream=io.BytesIO(b"x" * 10), declared_length=10)

    assert uploads_expire().uploads == 0
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_stray_old_files_go_and_young_ones_stay(author):
    expiry = settings.UPLOAD_EXPIRY_SECONDS
    settings.UPLOAD_TEMP_DIR.mkdir(parents=True, exist_ok=True)
    old, young = upload_path(uuid.uuid4()), upload_path(uuid.uuid4())
    for path in (old, young):
        path.write_bytes(b"left behind")
    stale = timezone.now().timestamp() - expiry - 60
    os.utime(old, (stale, stale))
    # A live upload's file is never a stray, however old the file itself is.
    live = upload_create(user=author, length=10, metadata={})
    os.utime(live.path, (stale, stale))

    cleanup = uploads_expire()

    assert cleanup.orphan_files == 1
    assert set(stored_parts()) == {young.name, live.path.name}


def test_an_upload_being_written_is_skipped(author):
    upload = upload_create(user=author, length=100, metadata={})
    age(upload, settings.UPLOAD_EXPIRY_SECONDS + 60)

    with open(upload.path, "rb") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX)
        cleanup = uploads_expire()

    assert cleanup.uploads == 0
    assert Upload.objects.filter(pk=upload.pk).exists()


def test_a_deleted_users_partial_files_are_swept_once_old(author):
    upload = upload_create(user=author, length=100, metadata={})
    path = upload.path
    author.delete()  # the rows cascade; the file stays until it is old enough
    stale = timezone.now().timestamp() - settings.UPLOAD_EXPIRY_SECONDS - 60

    assert uploads_expire().orphan_files == 0
    os.utime(path, (stale, stale))
    assert uploads_expire().orphan_files == 1
    assert not path.exists()


@pytest.mark.django_db(transaction=True)
def test_starting_uploads_queues_the_clean_up_at_most_once_an_hour(author):
    from django_tasks_db.models import DBTaskResult

    abandoned = upload_create(user=author, length=100, metadata={})
    age(abandoned, settings.UPLOAD_EXPIRY_SECONDS + 60)
    upload_create(user=author, length=100, metadata={})
    upload_create(user=author, length=100, metadata={})
    jobs = DBTaskResult.objects.filter(task_path="uploads.tasks.expire_uploads")
    assert jobs.count() == 1

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert not Upload.objects.filter(pk=abandoned.pk).exists()
    assert Upload.objects.count() == 2
