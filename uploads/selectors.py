"""Reads of uploads: only their creator ever sees one."""

import uuid

from django.core.exceptions import ValidationError

from uploads.models import Upload
from videohost.errors import NotFound


def upload_for_owner(*, user, upload_id: uuid.UUID | str) -> Upload:
    """The caller's own upload, or 404: someone else's upload does not exist for them."""
    if not getattr(user, "is_authenticated", False):
        raise NotFound("No such upload.")
    try:
        return Upload.objects.get(pk=upload_id, owner=user)
    except (Upload.DoesNotExist, ValidationError, ValueError, TypeError):
        raise NotFound("No such upload.") from None
