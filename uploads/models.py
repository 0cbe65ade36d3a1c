"""A resumable upload in progress (tus 1.0): who started it, how long it is, how far it got.

The bytes themselves are in one file per upload under UPLOAD_TEMP_DIR, outside both storages:
nothing there is reachable by URL, and the finished file becomes a video's original only through
`uploads.services.upload_finish`, which probes it like any other upload.
"""

import uuid
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import models


class Upload(models.Model):
    # The id is the upload's URL (/api/uploads/<id>), so it must not be guessable or sequential.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploads"
    )
    length = models.PositiveBigIntegerField(help_text="Upload-Length: the whole file, in bytes.")
    offset = models.PositiveBigIntegerField(default=0, help_text="Bytes received so far.")
    filename = models.CharField(max_length=255, blank=True)
    metadata = models.JSONField(default=dict, blank=True, help_text="Upload-Metadata, decoded.")
    created_at = models.DateTimeField(auto_now_add=True)
    # Every accepted PATCH moves this forward; clean-up measures abandonment from it.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(offset__lte=models.F("length")),
                name="upload_offset_within_length",
            )
        ]

    def __str__(self) -> str:
        return f"Upload {self.pk} ({self.offset}/{self.length} bytes)"

    @property
    def path(self) -> Path:
        return upload_path(self.pk)

    @property
    def is_complete(self) -> bool:
        return self.offset == self.length

    @property
    def expires_at(self) -> datetime:
        return self.updated_at + timedelta(seconds=settings.UPLOAD_EXPIRY_SECONDS)


PART_SUFFIX = ".part"


def upload_path(upload_id: uuid.UUID) -> Path:
    """Where an upload's bytes are; the name comes from the id alone, never from the client."""
    return Path(settings.UPLOAD_TEMP_DIR) / f"{upload_id.hex}{PART_SUFFIX}"
