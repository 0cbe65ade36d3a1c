"""tuspy, a real tus client, against a real daphne process: an upload cut off in the middle
(part of it sent, then a PATCH whose connection drops half-way) resumes with a new client from
where the server says it stopped, and the video made from it has the source's exact bytes."""

import socket
import time
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from knox.models import AuthToken
from tusclient.client import TusClient

from uploads.api_views import OFFSET_STREAM, TUS_VERSION
from uploads.models import Upload
from videohost.testing import ChannelFactory
from videos.media_tools import generate_clip
from videos.models import Video

CHUNK = 64 * 1024


@pytest.fixture
def author_token(transactional_db) -> str:
    author = ChannelFactory(owner__username="ines", title="Ines Outdoors").owner
    _, token = AuthToken.objects.create(user=author, expiry=settings.AUTH_TOKEN_TTL)
    return token


@pytest.fixture
def clip(tmp_path):
    path = generate_clip(tmp_path / "hike.mp4", seconds=4, size="640x360")
    assert path.stat().st_size > 4 * CHUNK, "the clip must span several chunks"
    return path


def drop_mid_patch(upload_url: str, token: str, *, offset: int, body: bytes) -> None:
    """Send a PATCH announcing all of `body`, send half of it, and hang up."""
    parts = urlsplit(upload_url)
    head = (
        f"PATCH {parts.path} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Tus-Resumable: {TUS_VERSION}\r\n"
        f"Upload-Offset: {offset}\r\n"
        f"Content-Type: {OFFSET_STREAM}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as connection:
        connection.sendall(head + body[: len(body) // 2])
    time.sleep(0.5)  # let the server notice the hang-up before anyone asks it anything


def test_an_upload_interrupted_in_the_middle_resumes_and_is_byte_identical(
    live_server_url, author_token, clip
):
    source = clip.read_bytes()
    auth = {"Authorization": f"Bearer {author_token}"}
    client = TusClient(f"{live_server_url}/api/uploads", headers=auth)

    first = client.uploader(
        str(clip), chunk_size=CHUNK, metadata={"filename": clip.name, "filetype": "video/mp4"}
    )
    first.upload_chunk()
    first.upload_chunk()
    assert first.offset == 2 * CHUNK
    drop_mid_patch(first.url, author_token, offset=first.offset, body=source[2 * CHUNK :])

    # A new client, as after a crash or a reload, knowing only the upload's URL.
    second = client.uploader(str(clip), url=first.url, chunk_size=CHUNK)
    assert second.offset == 2 * CHUNK  # from HEAD: nothing of the dropped PATCH was kept
    second.upload()

    upload = Upload.objects.get()
    assert (upload.offset, upload.length) == (len(source), len(source))
    upload_id = first.url.rsplit("/", 1)[1]
    response = requests.post(
        f"{live_server_url}/api/videos",
        json={"upload_id": upload_id, "title": "A hike, resumed", "access_level": "public"},
        headers=auth,
        timeout=60,
    )
    assert response.status_code == 201, response.text

    video = Video.objects.get(pk=response.json()["id"])
    with video.file.storage.open(video.file.name, "rb") as original:
        assert original.read() == source
    assert video.file_size == len(source)
    assert not Upload.objects.exists()
    gone = requests.head(first.url, headers={**auth, "Tus-Resumable": TUS_VERSION}, timeout=10)
    assert gone.status_code == 404


def test_the_server_refuses_an_oversize_upload_at_creation(live_server_url, author_token):
    auth = {"Authorization": f"Bearer {author_token}", "Tus-Resumable": TUS_VERSION}
    response = requests.post(
        f"{live_server_url}/api/uploads",
        headers={**auth, "Upload-Length": str(settings.MAX_UPLOAD_SIZE + 1)},
        timeout=10,
    )

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert response.headers["Tus-Resumable"] == TUS_VERSION
    assert not Upload.objects.exists()
