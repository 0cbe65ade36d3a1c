"""deploy/nginx/videohost.conf really serves the protected bytes after Django's check.

The deployment's own nginx configuration runs here in front of a live server with
MEDIA_DELIVERY=nginx: Django answers `X-Accel-Redirect`, nginx sends the file (ranges
included) from the private folder, and that folder cannot be asked for directly.
"""

import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from knox.models import AuthToken

from videohost.testing import with_hls
from videos.models import AccessLevel

CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "videohost.conf"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def nginx_delivery(settings):
    """Set before the live server forks, so the server process answers with X-Accel."""
    settings.MEDIA_DELIVERY = "nginx"
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"


@pytest.fixture
def nginx(nginx_delivery, live_server_url, tmp_path):
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not binary:
        pytest.skip("nginx is not installed (apt-get install nginx-light); .ci/run installs it")
    port = free_port()
    media = Path(django_settings.MEDIA_ROOT)
    site = CONFIG.read_text()
    # Only the addresses change: the locations under test are the deployment's own.
    site = site.replace("server web:8000;", f"server {live_server_url.removeprefix('http://')};")
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", site)
    site = site.replace("/srv/media/", f"{media}/")
    site = site.replace("http://minio:9000", "http://127.0.0.1:9")  # not used by these tests
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        # As root, nginx would drop its workers to `nobody`, who may not read the test's
        # private temporary media folder.
        ("user root;\n" if os.geteuid() == 0 else "")
        + f"""
        worker_processes 1;
        pid {tmp_path}/nginx.pid;
        error_log {tmp_path}/error.log warn;
        events {{ worker_connections 64; }}
        http {{
            include /etc/nginx/mime.types;
            access_log off;
            client_body_temp_path {tmp_path}/body;
            proxy_temp_path {tmp_path}/proxy;
            include {tmp_path}/site.conf;
        }}
        """
    )
    process = subprocess.Popen(
        [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 10
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"nginx did not start: {process.stderr.read().decode()}")
        time.sleep(0.05)
    yield url
    process.terminate()
    process.wait(timeout=10)


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def fetch(url: str, *, token: str | None = None, byte_range: str | None = None):
    request = urllib.request.Request(url)  # noqa: S310 — http on loopback only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if byte_range:
        request.add_header("Range", byte_range)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_nginx_sends_playlists_segments_and_ranges_after_the_check(
    nginx, make_video, viewer, subscriber
):
    video = with_hls(make_video(access_level=AccessLevel.SUBSCRIBER))
    private = Path(django_settings.MEDIA_ROOT) / "private"
    folder = video.hls_playlist.rsplit("/", 1)[0]
    rendition = video.renditions[0]["name"]
    _, token = AuthToken.objects.create(user=subscriber, expiry=django_settings.AUTH_TOKEN_TTL)

    for path in ("master.m3u8", f"{rendition}/index.m3u8", f"{rendition}/seg_00000.ts"):
        status, headers, body = fetch(f"{nginx}/api/videos/{video.pk}/hls/{path}", token=token)
        assert status == 200, (path, status, body[:200])
        assert body == (private / folder / path).read_bytes()
        assert "X-Accel-Redirect" not in headers  # consumed by nginx, never shown
        expected = "application/vnd.apple.mpegurl" if path.endswith("m3u8") else "video/mp2t"
        assert headers["Content-Type"] == expected

    original = (private / video.file.name).read_bytes()
    status, headers, body = fetch(
        f"{nginx}/api/videos/{video.pk}/stream", token=token, byte_range="bytes=100-1099"
    )
    assert status == 206
    assert headers["Content-Range"] == f"bytes 100-1099/{len(original)}"
    assert body == original[100:1100]


def test_nginx_passes_refusals_through_and_hides_the_private_folder(nginx, make_video, viewer):
    video = with_hls(make_video(access_level=AccessLevel.SPONSOR))
    _, token = AuthToken.objects.create(user=viewer, expiry=django_settings.AUTH_TOKEN_TTL)
    status, headers, body = fetch(f"{nginx}/api/videos/{video.pk}/hls/master.m3u8", token=token)
    assert status == 403 and b'"FORBIDDEN"' in body
    status, _, body = fetch(f"{nginx}/api/videos/{video.pk}/stream")
    assert status == 401 and b'"UNAUTHORIZED"' in body

    # The internal location and the private folder are out of reach however they are named.
    for path in (f"/protected-media/{video.file.name}", f"/media/../private/{video.file.name}"):
        status, _, body = fetch(f"{nginx}{path}")
        assert status in (400, 404), (path, status)
        assert body != (Path(django_settings.MEDIA_ROOT) / "private" / video.file.name).read_bytes()
