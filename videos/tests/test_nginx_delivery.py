"""deploy/nginx/videohost.conf really serves the protected bytes after Django's check.

The deployment's own nginx configuration runs here in front of a live server with
MEDIA_DELIVERY=nginx: Django answers `X-Accel-Redirect`, nginx sends the file (ranges
included) from the private folder, and that folder cannot be asked for directly.
"""

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client
from knox.models import AuthToken

from channels_app.models import Subscription
from videohost.nginx_site import loopback_site
from videohost.testing import SubscriptionFactory, with_hls
from videos.models import AccessLevel

REUSE_SECONDS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def nginx_delivery(settings):
    """Set before the live server forks, so the server process answers with X-Accel."""
    settings.MEDIA_DELIVERY = "nginx"
    settings.MEDIA_ACCEL_PREFIX = "/protected-media/"
    settings.MEDIA_CHECK_REUSE_SECONDS = REUSE_SECONDS


@pytest.fixture
def nginx(nginx_delivery, live_server_url, tmp_path):
    binary = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if not binary:
        pytest.skip("nginx is not installed (apt-get install nginx-light); .ci/run installs it")
    port = free_port()
    site = loopback_site(
        app=live_server_url.removeprefix("http://"),
        port=port,
        checks_port=free_port(),
        media_root=Path(django_settings.MEDIA_ROOT),
        cache_root=tmp_path / "media-checks",
    )
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


def fetch(
    url: str,
    *,
    token: str | None = None,
    session: str | None = None,
    byte_range: str | None = None,
):
    request = urllib.request.Request(url)  # noqa: S310 — http on loopback only
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if session:
        request.add_header("Cookie", f"sessionid={session}")
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


def token_for(user) -> str:
    return AuthToken.objects.create(user=user, expiry=django_settings.AUTH_TOKEN_TTL)[1]


def session_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_nginx_reuses_a_yes_for_the_same_credentials_only_and_for_seconds_only(
    nginx, make_video, viewer, subscriber
):
    """A player's next range is sent without asking Django again, for the caller who was let
    in and for MEDIA_CHECK_REUSE_SECONDS; everyone else is still asked about."""
    video = make_video(access_level=AccessLevel.SUBSCRIBER)
    original = (Path(django_settings.MEDIA_ROOT) / "private" / video.file.name).read_bytes()
    stream = f"{nginx}/api/videos/{video.pk}/stream"
    sams_token, sams_session = token_for(subscriber), session_for(subscriber)
    for credentials in ({"token": sams_token}, {"session": sams_session}):
        status, _, body = fetch(stream, **credentials, byte_range="bytes=0-99")
        assert (status, body) == (206, original[:100])

    # Sam unsubscribes. His next ranges are sent on the yes nginx kept: Django would refuse.
    Subscription.objects.filter(user=subscriber).delete()
    revoked_at = time.monotonic()
    for credentials in ({"token": sams_token}, {"session": sams_session}):
        status, _, body = fetch(stream, **credentials, byte_range="bytes=100-199")
        assert (status, body) == (206, original[100:200]), credentials

    # Nobody else rides on it: not another of Sam's tokens or sessions, not Victor, not
    # anonymous callers, not another URL.
    for credentials in (
        {"token": token_for(subscriber)},
        {"session": session_for(subscriber)},
        {"token": token_for(viewer)},
        {"session": session_for(viewer)},
    ):
        status, _, body = fetch(stream, **credentials, byte_range="bytes=0-99")
        assert status == 403 and b'"FORBIDDEN"' in body, credentials
    assert fetch(stream, byte_range="bytes=0-99")[0] == 401
    assert fetch(f"{stream}?download=1", token=sams_token)[0] == 403

    # After the reuse seconds, Django is asked again and says no.
    assert time.monotonic() - revoked_at < REUSE_SECONDS, "too slow to see the reuse"
    time.sleep(REUSE_SECONDS + 1)
    for credentials in ({"token": sams_token}, {"session": sams_session}):
        status, _, body = fetch(stream, **credentials, byte_range="bytes=0-99")
        assert status == 403 and b'"FORBIDDEN"' in body, credentials


def test_nginx_never_keeps_a_refusal(nginx, make_video, viewer):
    video = make_video(access_level=AccessLevel.SUBSCRIBER)
    stream = f"{nginx}/api/videos/{video.pk}/stream"
    token = token_for(viewer)
    assert fetch(stream, token=token, byte_range="bytes=0-99")[0] == 403
    SubscriptionFactory(user=viewer, channel=video.channel)
    status, headers, _ = fetch(stream, token=token, byte_range="bytes=0-99")
    assert status == 206
    # Django's instructions to nginx stay between them.
    assert not {"X-Accel-Redirect", "X-Accel-Expires"} & set(headers)
