"""Speaking tus through Django's test client."""

import base64

import pytest
from django.conf import settings

from uploads.api_views import OFFSET_STREAM, TUS_VERSION

COLLECTION = "/api/uploads"


def metadata_header(**values: str) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in values.items()
    )


def tus_create(client, length: int, *, filename: str = "clip.mp4", **extra):
    extra.setdefault("HTTP_TUS_RESUMABLE", TUS_VERSION)
    extra.setdefault(
        "HTTP_UPLOAD_METADATA", metadata_header(filename=filename, filetype="video/mp4")
    )
    return client.generic("POST", COLLECTION, HTTP_UPLOAD_LENGTH=str(length), **extra)


def tus_head(client, url: str, **extra):
    extra.setdefault("HTTP_TUS_RESUMABLE", TUS_VERSION)
    return client.generic("HEAD", url, **extra)


def tus_patch(client, url: str, data: bytes, offset: int, **extra):
    extra.setdefault("HTTP_TUS_RESUMABLE", TUS_VERSION)
    content_type = extra.pop("content_type", OFFSET_STREAM)
    return client.generic(
        "PATCH", url, data, content_type=content_type, HTTP_UPLOAD_OFFSET=str(offset), **extra
    )


def tus_delete(client, url: str, **extra):
    extra.setdefault("HTTP_TUS_RESUMABLE", TUS_VERSION)
    return client.generic("DELETE", url, **extra)


def stored_parts() -> dict[str, bytes]:
    """Every partial file in UPLOAD_TEMP_DIR, by name."""
    folder = settings.UPLOAD_TEMP_DIR
    return {path.name: path.read_bytes() for path in folder.glob("*")} if folder.exists() else {}


@pytest.fixture(autouse=True)
def _empty_upload_folder():
    """The folder is shared by the whole test run; each test starts and ends without parts."""

    def empty() -> None:
        for path in settings.UPLOAD_TEMP_DIR.glob("*"):
            path.unlink()

    empty()
    yield
    empty()
