"""Files follow their rows: deleting a Video or an Ad (directly, by cascade from a channel or a
user, or in the admin) removes its files from storage once the deletion commits."""

import logging
from functools import partial

from django.core.files.storage import Storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from videos.models import Ad, Video

logger = logging.getLogger(__name__)


def _remove_files(files: list[tuple[Storage, str]]) -> None:
    for storage, name in files:
        try:
            storage.delete(name)
        except Exception:
            # A storage hiccup must not turn a committed deletion into an error page.
            logger.exception("Could not delete %s from storage", name)


def _delete_after_commit(*fields) -> None:
    files = [(field.storage, field.name) for field in fields if field]
    if files:
        # After commit: a rolled-back deletion must keep its files.
        transaction.on_commit(partial(_remove_files, files))


def _remove_video_folders(video: Video) -> None:
    from videos.services import storage_delete_folder

    # Everything a video has is under its media key, in either storage: the original and the
    # HLS output in the private one, the thumbnail and the sprite in the public one.
    folder = video.storage_prefix.rstrip("/")
    for storage in {id(s): s for s in (video.file.storage, video.thumbnail.storage)}.values():
        try:
            storage_delete_folder(storage, folder)
        except Exception:
            # A storage hiccup must not turn a committed deletion into an error page.
            logger.exception("Could not delete %s from storage", folder)


@receiver(post_delete, sender=Video, dispatch_uid="videos.delete_video_files")
def delete_video_files(sender, instance: Video, **kwargs) -> None:
    # After commit: a rolled-back deletion must keep its files.
    transaction.on_commit(partial(_remove_video_folders, instance))


@receiver(post_delete, sender=Ad, dispatch_uid="videos.delete_ad_files")
def delete_ad_files(sender, instance: Ad, **kwargs) -> None:
    _delete_after_commit(instance.image, instance.video)
