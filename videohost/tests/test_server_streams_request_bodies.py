"""The server (videohost.server) hands request bodies to the application a chunk at a time and
refuses an oversize body from its headers, before the client has sent it, storing none of it.

The refusals are tested against `python -m videohost.server` itself (a subprocess with a 1 MiB
MAX_UPLOAD_SIZE and its own TMPDIR, so its spool files can be watched through /proc); uploads
through the API against the live server, which runs the same server class.
"""

import hashlib
import http.client
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from django.conf import settings
from knox.models import AuthToken

from uploads.api_views import OFFSET_STREAM, TUS_VERSION
from uploads.models import Upload
from videohost.server import BODY_CHUNK_SIZE, StreamingDaphneProcess
from videohost.testing import stop_server_process
from videos.media_tools import generate_clip
from videos.models import Video
from videos.uploads import MULTIPART_ALLOWANCE

BASE_DIR = Path(__file__).resolve().parents[2]
SMALL_LIMIT = 1024 * 1024  # MAX_UPLOAD_SIZE of the subprocess server
BODY_LIMIT = SMALL_LIMIT + MULTIPART_ALLOWANCE
TIMEOUT = 15


class ServerProcess:
    """`python -m videohost.server` on a free port, its stderr drained by a thread."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "videohost.settings",
            "MAX_UPLOAD_SIZE": str(SMALL_LIMIT),
            "TMPDIR": str(tmp),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "videohost.server", "-b", "127.0.0.1", "-p", "0"],
            cwd=BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._drain, daemon=True).start()
        self.port = self._wait_for_port()

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.lines.put(line)

    def _wait_for_port(self) -> int:
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.5)
            except queue.Empty:
                if self.process.poll() is not None:
                    break
                continue
            seen.append(line)
            found = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", line)
            if found:
                return int(found.group(1))
        self.stop()
        raise RuntimeError("videohost.server did not start:\n" + "".join(seen))

    def spooled_bytes(self) -> int:
        """Bytes in the files the server holds open under its TMPDIR (request body spools)."""
        total = 0
        fds = f"/proc/{self.process.pid}/fd"
        for fd in os.listdir(fds):
            try:
                if os.readlink(f"{fds}/{fd}").startswith(str(self.tmp)):
                    total += os.stat(f"{fds}/{fd}").st_size
            except FileNotFoundError:
                pass  # closed meanwhile
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not Path("/proc/self/fd").exists():
        pytest.skip("needs /proc to watch the server's temporary files")
    process = ServerProcess(tmp_path_factory.mktemp("server-tmp"))
    yield process
    process.stop()


class Peak:
    """The largest value of `measure()` seen while the block runs (sampled every 5 ms)."""

    def __init__(self, measure):
        self.measure = measure
        self.value = 0
        self._stop = threading.Event()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.value = max(self.value, self.measure())
            time.sleep(0.005)

    def __enter__(self):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.value = max(self.value, self.measure())


def request_head(port: int, headers: dict[str, str], path: str = "/api/videos") -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_until_eof(connection: socket.socket) -> bytes:
    received = b""
    while chunk := connection.recv(65536):
        received += chunk
    return received


def parse_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


def assert_payload_too_large(raw: bytes) -> None:
    status, headers, body = parse_response(raw)
    assert status == 413
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    envelope = json.loads(body)
    assert envelope["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert "1 MiB" in envelope["error"]["message"]
    assert envelope["error"]["details"] == {}


def test_an_oversize_content_length_is_answered_413_before_the_body_is_sent(server):
    head = request_head(
        server.port,
        {"Content-Type": "application/octet-stream", "Content-Length": str(BODY_LIMIT + 1)},
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as connection:
        connection.sendall(head)  # the headers only: not one byte of the body
        raw = read_until_eof(connection)  # EOF: the server closes after answering
    assert_payload_too_large(raw)
    assert server.spooled_bytes() == 0


def test_an_oversize_upload_expecting_100_continue_gets_the_413_instead(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.putrequest("POST", "/api/videos")
        connection.putheader("Content-Type", "application/octet-stream")
        connection.putheader("Content-Length", str(10 * BODY_LIMIT))
        connection.putheader("Expect", "100-continue")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert response.getheader("Connection") == "close"
        assert json.loads(response.read())["error"]["code"] == "PAYLOAD_TOO_LARGE"
    finally:
        connection.close()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_an_oversize_body_sent_anyway_is_dropped_unstored(server, framing):
    size = 8 * BODY_LIMIT
    piece = b"\0" * (64 * 1024)
    if framing == "chunked":
        # No length to refuse up front: the server counts what arrives and stops at the limit.
        headers = {"Transfer-Encoding": "chunked"}
        chunk = b"%x\r\n%s\r\n" % (len(piece), piece)
        body = [chunk] * (size // len(piece)) + [b"0\r\n\r\n"]
        largest_spool = BODY_LIMIT + len(piece)
    else:
        headers = {"Content-Length": str(size)}
        body = [piece] * (size // len(piece))
        largest_spool = 0
    head = request_head(server.port, {"Content-Type": "application/octet-stream", **headers})

    with (
        Peak(server.spooled_bytes) as spooled,
        socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT) as connection,
    ):
        # A client that sends everything before reading (as `requests` does) still gets to
        # the answer: the server reads on and drops the body instead of resetting the socket.
        connection.sendall(head)
        try:
            for part in body:
                connection.sendall(part)
        except (BrokenPipeError, ConnectionResetError):
            pytest.fail("the server reset the connection under a client still sending")
        raw = read_until_eof(connection)

    assert_payload_too_large(raw)
    assert spooled.value <= largest_spool
    assert server.spooled_bytes() == 0


def test_a_body_within_the_limit_reaches_django(server):
    body = os.urandom(BODY_LIMIT // 2)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        connection.request(
            "POST", "/api/videos", body=body, headers={"Content-Type": "application/octet-stream"}
        )
        response = connection.getresponse()
        # Django read the body and answered for itself: no credentials.
        assert response.status == 401
        assert json.loads(response.read())["error"]["code"] == "UNAUTHORIZED"
    finally:
        connection.close()
    assert server.spooled_bytes() == 0  # every spool closed once the request ended


# --- The application's side: bodies arrive whole, in bounded chunks ---------------------------


def resident_kib() -> int:
    with open("/proc/self/status") as status:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.M).group(1))


async def body_counter(scope, receive, send):
    """A bare ASGI app: hashes the body it receives and reports how it arrived."""
    assert scope["type"] == "http"
    digest, messages, largest = hashlib.sha256(), 0, 0
    rss_at_start = peak_rss = resident_kib()
    while True:
        message = await receive()
        assert message["type"] == "http.request"
        digest.update(message["body"])
        messages += 1
        largest = max(largest, len(message["body"]))
        peak_rss = max(peak_rss, resident_kib())
        if not message.get("more_body"):
            break
    report = {
        "sha256": digest.hexdigest(),
        "messages": messages,
        "largest": largest,
        "rss_at_start_kib": rss_at_start,
        "peak_rss_kib": peak_rss,
    }
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(report).encode()})


@pytest.fixture
def counting_server():
    process = StreamingDaphneProcess(host="127.0.0.1", get_application=lambda: body_counter)
    process.start()
    if not process.ready.wait(timeout=20):
        stop_server_process(process)
        raise RuntimeError("the server did not start")
    yield process.port.value
    stop_server_process(process)


def post_file(port: int, path: Path) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        with path.open("rb") as body:
            connection.request(
                "POST",
                "/",
                body=body,
                headers={"Content-Length": str(path.stat().st_size)},
            )
        response = connection.getresponse()
        assert response.status == 200
        return json.loads(response.read())
    finally:
        connection.close()


def test_a_50_mb_body_reaches_the_app_intact_a_chunk_at_a_time(counting_server, tmp_path):
    size = 50 * 1024 * 1024
    source = tmp_path / "body.bin"
    source.write_bytes(os.urandom(size))
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")

    before = post_file(counting_server, empty)
    report = post_file(counting_server, source)

    assert report["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert before["messages"] == 1  # an empty body is one empty message, as ASGI wants
    assert report["largest"] == BODY_CHUNK_SIZE
    assert report["messages"] == size // BODY_CHUNK_SIZE
    # daphne alone would have queued all 50 MB before calling the app; read on demand, the
    # server's memory grows by about a chunk.
    growth_mib = (report["peak_rss_kib"] - before["rss_at_start_kib"]) / 1024
    assert growth_mib < 20, f"the server grew by {growth_mib:.0f} MiB for a 50 MiB body"


# --- Through the API, on the live server -------------------------------------------------------


@pytest.fixture
def author_token(author) -> str:
    _, token = AuthToken.objects.create(user=author, expiry=settings.AUTH_TOKEN_TTL)
    return token


def test_a_multipart_upload_through_the_api_still_makes_the_video(
    live_server_url, author, author_token, tmp_path
):
    clip = generate_clip(tmp_path / "clip.mp4", seconds=2)
    with clip.open("rb") as file:
        response = requests.post(
            f"{live_server_url}/api/videos",
            headers={"Authorization": f"Bearer {author_token}"},
            data={"title": "Streamed through", "access_level": "public"},
            files={"file": ("clip.mp4", file, "video/mp4")},
            timeout=60,
        )
    assert response.status_code == 201, response.text
    video = Video.objects.get(pk=response.json()["id"])
    assert video.channel == author.channel
    assert video.file_size == clip.stat().st_size


def test_a_50_mb_tus_patch_is_stored_byte_identical(live_server_url, author_token, tmp_path):
    size = 50 * 1024 * 1024
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(size))
    headers = {"Authorization": f"Bearer {author_token}", "Tus-Resumable": TUS_VERSION}
    created = requests.post(
        f"{live_server_url}/api/uploads",
        headers={**headers, "Upload-Length": str(size)},
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    upload = Upload.objects.get(pk=created.json()["id"])

    parts = urlsplit(live_server_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        with source.open("rb") as body:
            connection.request(
                "PATCH",
                created.headers["Location"],
                body=body,
                headers={
                    **headers,
                    "Upload-Offset": "0",
                    "Content-Type": OFFSET_STREAM,
                    "Content-Length": str(size),
                },
            )
        response = connection.getresponse()
        response.read()
        assert response.status == 204
        assert response.getheader("Upload-Offset") == str(size)
    finally:
        connection.close()

    try:
        upload.refresh_from_db()
        assert upload.offset == size
        with upload.path.open("rb") as stored, source.open("rb") as sent:
            assert hashlib.file_digest(stored, "sha256").digest() == (
                hashlib.file_digest(sent, "sha256").digest()
            )
    finally:
        upload.path.unlink(missing_ok=True)
