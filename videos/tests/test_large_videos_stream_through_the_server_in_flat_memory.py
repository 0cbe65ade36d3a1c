"""A large video streams through the real server (`python -m videohost.server`) with its
memory flat, to a fast client and to one that stops reading for a while.

Two things used to hold a whole video in the server's memory: Django, under ASGI, reads a
synchronous streaming body to its end before sending a byte (videos.streaming now gives it
an asynchronous one), and daphne writes every body chunk to the socket's buffer however
slowly the client reads (videohost.server.SendWindow now waits for the client). Before
both fixes, a 256 MiB GET grew the server by ~725 MiB (bench/media_bytes.py).

The video is a sparse 256 MiB file (the clip's bytes, then zeros): no disk space, and the
server reads it from the page cache, so only what the server keeps in memory shows.
"""

import time
import urllib.request
from pathlib import Path

import pytest

from videohost.storage import private_storage
from videohost.testing_servers import AppServer, app_env, database_url_for_subprocess

SIZE = 256 * 1024 * 1024
MIB = 1024 * 1024
# Python, Django and the socket buffers move a few MiB around; a buffered video is hundreds.
ALLOWED_GROWTH = 48 * MIB

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def large_video(make_video):
    video = make_video(access_level="public")
    path = Path(private_storage().path(video.file.name))
    with open(path, "r+b") as file:
        file.truncate(SIZE)
    return video


@pytest.fixture
def server(tmp_path):
    app = AppServer(app_env(database_url=database_url_for_subprocess()), tmp_path / "app.log")
    try:
        app.start()
        yield app
    finally:
        app.stop()


def download(server: AppServer, video, *, pause_after_first_mib: float = 0.0) -> tuple[int, int]:
    """Read the whole stream 1 MiB at a time: (bytes read, the server's peak RSS growth)."""
    # Warm-up: the first request imports and caches what every later one uses.
    first_bytes = urllib.request.Request(  # noqa: S310 - loopback
        f"{server.url}/api/videos/{video.pk}/stream", headers={"Range": "bytes=0-99"}
    )
    with urllib.request.urlopen(first_bytes, timeout=30) as response:  # noqa: S310
        response.read()
    before = peak = server.rss_bytes()
    read = 0
    with urllib.request.urlopen(  # noqa: S310 - loopback
        f"{server.url}/api/videos/{video.pk}/stream", timeout=60
    ) as response:
        assert response.status == 200
        assert int(response.headers["Content-Length"]) == SIZE
        while chunk := response.read(MIB):
            read += len(chunk)
            if read == len(chunk) and pause_after_first_mib:
                # A client that stops reading: a server that does not wait for it would
                # now read the rest of the file into its memory.
                deadline = time.monotonic() + pause_after_first_mib
                while time.monotonic() < deadline:
                    peak = max(peak, server.rss_bytes())
                    time.sleep(0.05)
            peak = max(peak, server.rss_bytes())
    return read, peak - before


def test_a_fast_client_gets_all_256_mib_while_the_server_grows_by_a_few(server, large_video):
    read, growth = download(server, large_video)
    assert read == SIZE
    assert growth < ALLOWED_GROWTH, f"server grew by {growth / MIB:.0f} MiB"


def test_a_client_that_stops_reading_does_not_make_the_server_buffer_the_video(server, large_video):
    read, growth = download(server, large_video, pause_after_first_mib=3.0)
    assert read == SIZE
    assert growth < ALLOWED_GROWTH, f"server grew by {growth / MIB:.0f} MiB"
