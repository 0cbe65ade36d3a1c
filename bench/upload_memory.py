"""Server memory while a 2 GiB video is uploaded: videohost.server against plain daphne.

    .venv/bin/python bench/upload_memory.py                  # 2 GiB, every path
    .venv/bin/python bench/upload_memory.py --size-mib 256 --paths multipart

Each measurement starts a fresh server process on 127.0.0.1 over a throw-away SQLite database
and MEDIA_ROOT (plain `daphne videohost.asgi:application` as the baseline, then
`python -m videohost.server`), warms it up with a small upload, resets its peak-RSS counter,
and uploads the same generated video (1080p raw frames in AVI, which the upload probe accepts)
with a streaming client — the file is never in the client's memory either:

- multipart: one `POST /api/videos` with the file, as `curl -F file=@…` sends it;
- tus: tuspy (`--tus-chunk-mib` per PATCH), then `POST /api/videos` with the `upload_id`;
- single-patch: tus with the whole file in one PATCH (a raw body, which Twisted does not
  parse as a form, so this isolates daphne's copy of the body into its queue).

It reports the server's peak RSS growth over its RSS just before the upload (VmHWM after the
reset, cross-checked with VmRSS sampled every 50 ms), the ratio baseline / ours, and the goal
(under 100 MiB). The baseline runs under an address-space cap (`--baseline-cap-gib`): plain
daphne holds a multipart upload many times over (Twisted parses it into `request.args` in
memory), and with the cap it fails alone instead of starving the machine. Everything is
written under one temporary folder, deleted at the end; it needs about 5× the file size free
on disk. tuspy's chunks are in the client's memory; the other two paths stream from disk.
"""

import argparse
import base64
import http.client
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
from tusclient.client import TusClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from machine import describe  # noqa: E402

from videos.media_tools import ffmpeg_binary  # noqa: E402

PYTHON = sys.executable
GOAL_MIB = 100
SAMPLE_SECONDS = 0.05
FRAME_BYTES = 1920 * 1080 * 3 // 2  # one yuv420p 1080p frame
READ_SIZE = 1024 * 1024
SERVERS = {
    "daphne (baseline)": [PYTHON, "-m", "daphne", "videohost.asgi:application"],
    "videohost.server": [PYTHON, "-m", "videohost.server"],
}
BASELINE = "daphne (baseline)"
PATHS = ["multipart", "tus", "single-patch"]
SETUP_USER = """
from django.conf import settings
from knox.models import AuthToken
from videohost.testing import ChannelFactory
owner = ChannelFactory(owner__username="bench", title="Bench").owner
print(AuthToken.objects.create(user=owner, expiry=settings.AUTH_TOKEN_TTL)[1])
"""


def generate_video(path: Path, size: int) -> Path:
    """A valid AVI of about `size` bytes, fast: raw 1080p test-pattern frames, no encoding."""
    frames = max(1, round(size / FRAME_BYTES))
    subprocess.run(
        [
            ffmpeg_binary(),
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=1920x1080:rate=25",
            "-frames:v",
            str(frames),
            "-c:v",
            "rawvideo",
            "-pix_fmt",
            "yuv420p",
            "-f",
            "avi",
            str(path),
        ],
        check=True,
    )
    return path


def project_env(work: Path, max_upload: int) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "STORAGE_BACKEND", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DJANGO_SETTINGS_MODULE="videohost.settings",
        DATABASE_URL=f"sqlite:///{work / 'db.sqlite3'}",
        MEDIA_ROOT=str(work / "media"),
        UPLOAD_TEMP_DIR=str(work / "uploads"),
        # Twisted's and Django's spool files land here, so they are counted and cleaned up.
        TMPDIR=str(work / "tmp"),
        MAX_UPLOAD_SIZE=str(max_upload),
    )
    for folder in ("media", "uploads", "tmp"):
        (work / folder).mkdir(exist_ok=True)
    return env


def make_author(env: dict[str, str]) -> str:
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run(
        [*manage, "migrate", "--noinput"], env=env, cwd=ROOT, check=True, stdout=subprocess.DEVNULL
    )
    done = subprocess.run(
        [*manage, "shell", "-c", SETUP_USER],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip().splitlines()[-1]


def limit_address_space(gib: float):
    def apply() -> None:
        cap = int(gib * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    return apply


class ServerProcess:
    def __init__(self, command: list[str], env: dict[str, str], cap_gib: float | None):
        self.process = subprocess.Popen(
            [*command, "-b", "127.0.0.1", "-p", "0"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=limit_address_space(cap_gib) if cap_gib else None,
        )
        self.log: list[str] = []
        self.listening = threading.Event()
        self.port = 0
        threading.Thread(target=self._drain, daemon=True).start()
        if not self.listening.wait(60):
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.log[-20:]))

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)
            found = re.search(r"Listening on TCP address 127\.0\.0\.1:(\d+)", line)
            if found:
                self.port = int(found.group(1))
                self.listening.set()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def status_kib(self) -> dict[str, int]:
        with open(f"/proc/{self.process.pid}/status") as status:
            text = status.read()
        return {
            key: int(re.search(rf"^{key}:\s+(\d+) kB", text, re.M).group(1))
            for key in ("VmRSS", "VmHWM")
        }

    def reset_peak(self) -> bool:
        # Linux: writing 5 to clear_refs resets VmHWM to the current RSS.
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class RssSampler(threading.Thread):
    def __init__(self, server: ServerProcess):
        super().__init__(daemon=True)
        self.server = server
        self.samples: list[int] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                self.samples.append(self.server.status_kib()["VmRSS"])
            except (OSError, AttributeError):
                return  # the server exited
            time.sleep(SAMPLE_SECONDS)

    def stop(self) -> None:
        self.done.set()
        self.join()


def upload_multipart(server: ServerProcess, token: str, path: Path) -> int:
    """POST /api/videos with the file streamed from disk in 1 MiB pieces."""
    boundary = uuid.uuid4().hex
    fields = {"title": "Bench upload", "access_level": "public"}
    preamble = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    preamble += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: video/x-msvideo\r\n\r\n'
    )
    epilogue = f"\r\n--{boundary}--\r\n".encode()
    head = preamble.encode()

    def body():
        yield head
        with path.open("rb") as file:
            while chunk := file.read(READ_SIZE):
                yield chunk
        yield epilogue

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=3600)
    try:
        connection.request(
            "POST",
            "/api/videos",
            body=body(),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
                "Content-Length": str(len(head) + path.stat().st_size + len(epilogue)),
            },
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def upload_tus(server: ServerProcess, token: str, path: Path, chunk_size: int) -> int:
    auth = {"Authorization": f"Bearer {token}"}
    uploader = TusClient(f"{server.url}/api/uploads", headers=auth).uploader(
        str(path),
        chunk_size=chunk_size,
        metadata={"filename": path.name, "filetype": "video/x-msvideo"},
    )
    uploader.upload()
    response = requests.post(
        f"{server.url}/api/videos",
        headers=auth,
        json={
            "upload_id": uploader.url.rsplit("/", 1)[1],
            "title": "Bench upload",
            "access_level": "public",
        },
        timeout=3600,
    )
    return response.status_code


def upload_single_patch(server: ServerProcess, token: str, path: Path) -> int:
    """tus with the whole file in one PATCH, streamed from disk."""
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    size = path.stat().st_size
    created = requests.post(
        f"{server.url}/api/uploads",
        headers={
            **auth,
            "Upload-Length": str(size),
            "Upload-Metadata": "filename " + base64.b64encode(path.name.encode()).decode(),
        },
        timeout=60,
    )
    if created.status_code != 201:
        return created.status_code
    connection = http.client.HTTPConnection(
        "127.0.0.1", server.port, timeout=3600, blocksize=READ_SIZE
    )
    try:
        with path.open("rb") as file:
            connection.request(
                "PATCH",
                created.headers["Location"],
                body=file,
                headers={
                    **auth,
                    "Upload-Offset": "0",
                    "Content-Type": "application/offset+octet-stream",
                    "Content-Length": str(size),
                },
            )
        response = connection.getresponse()
        response.read()
        if response.status != 204:
            return response.status
    finally:
        connection.close()
    response = requests.post(
        f"{server.url}/api/videos",
        headers=auth,
        json={
            "upload_id": created.json()["id"],
            "title": "Bench upload",
            "access_level": "public",
        },
        timeout=3600,
    )
    return response.status_code


def measure(args, name: str, path_kind: str, env, token, video: Path, warmup: Path) -> dict:
    cap = args.baseline_cap_gib if name == BASELINE else None
    server = ServerProcess(SERVERS[name], env, cap)
    upload = {
        "multipart": lambda file: upload_multipart(server, token, file),
        "tus": lambda file: upload_tus(server, token, file, args.tus_chunk_mib * 1024 * 1024),
        "single-patch": lambda file: upload_single_patch(server, token, file),
    }[path_kind]
    try:
        if upload(warmup) != 201:
            raise RuntimeError("the warm-up upload failed:\n" + "".join(server.log[-20:]))
        time.sleep(0.5)
        server.reset_peak()
        before = server.status_kib()["VmRSS"]
        sampler = RssSampler(server)
        sampler.start()
        started = time.perf_counter()
        try:
            status = upload(video)
        except (OSError, http.client.HTTPException, requests.RequestException) as exc:
            status = f"{exc.__class__.__name__}"
        seconds = time.perf_counter() - started
        sampler.stop()
        try:
            peak = max(server.status_kib()["VmHWM"], *sampler.samples, before)
        except OSError:
            peak = max(sampler.samples, default=before)  # the server died: what was seen
        alive = server.process.poll() is None
    finally:
        server.stop()
        # The stored originals (a file's size each) are not part of the measurement.
        shutil.rmtree(Path(env["MEDIA_ROOT"]) / "private", ignore_errors=True)
    if status != 201:
        # The server's own account of the failure, e.g. a MemoryError at the baseline's cap.
        errors = [line.strip() for line in server.log if "Error" in line]
        status = f"{status} ({errors[-1][:80]})" if errors else status
    return {
        "server": name,
        "path": path_kind,
        "status": status if alive else f"{status}, server died",
        "growth_mib": (peak - before) / 1024,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=2048, help="video size (default 2048)")
    parser.add_argument("--paths", nargs="+", choices=PATHS, default=PATHS)
    parser.add_argument("--servers", nargs="+", choices=list(SERVERS), default=list(SERVERS))
    parser.add_argument("--tus-chunk-mib", type=int, default=16)
    parser.add_argument(
        "--baseline-cap-gib",
        type=float,
        default=8,
        help="address-space limit of the baseline server (default 8)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    size = args.size_mib * 1024 * 1024
    work = Path(tempfile.mkdtemp(prefix="videohost-bench-upload-"))
    free = shutil.disk_usage(work).free
    if free < 5 * size:
        shutil.rmtree(work)
        sys.exit(
            f"needs {5 * size / 1024**3:.1f} GiB free in {work.parent}, has {free / 1024**3:.1f}"
        )
    print(describe())
    results = []
    try:
        video = generate_video(work / "bench.avi", size)
        warmup = generate_video(work / "warmup.avi", FRAME_BYTES * 5)
        actual = video.stat().st_size
        env = project_env(work, max(2 * 1024**3, actual))
        token = make_author(env)
        print(
            f"video:   {actual / 1024**2:.0f} MiB AVI (1920x1080 rawvideo); server RSS sampled "
            f"every {SAMPLE_SECONDS * 1000:.0f} ms; tus chunks of {args.tus_chunk_mib} MiB\n"
        )
        print(
            f"{'path':<12} {'server':<18} {'peak RSS growth':>16} {'time':>8} {'MiB/s':>7}  answer"
        )
        for path_kind in args.paths:
            for name in args.servers:
                result = measure(args, name, path_kind, env, token, video, warmup)
                results.append(result)
                print(
                    f"{path_kind:<12} {name:<18} {result['growth_mib']:>12.1f} MiB "
                    f"{result['seconds']:>7.1f}s {actual / 1024**2 / result['seconds']:>7.0f}  "
                    f"{result['status']}",
                    flush=True,
                )
    finally:
        if args.keep:
            print(f"\nkept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    print()
    for path_kind in args.paths:
        by_server = {r["server"]: r for r in results if r["path"] == path_kind}
        ours = by_server.get("videohost.server")
        if ours is None:
            continue
        verdict = "PASS" if ours["growth_mib"] < GOAL_MIB and ours["status"] == 201 else "FAIL"
        line = (
            f"{path_kind}: videohost.server {ours['growth_mib']:.1f} MiB "
            f"(goal < {GOAL_MIB} MiB: {verdict})"
        )
        baseline = by_server.get(BASELINE)
        if baseline is not None:
            ratio = baseline["growth_mib"] / max(ours["growth_mib"], 1.0)
            if baseline["status"] == 201:
                line += f"; baseline / ours = {ratio:.1f}×"
            else:
                # It stopped at its cap without finishing: what it held is a lower bound.
                line += (
                    f"; baseline failed ({baseline['status']}) after growing "
                    f"{baseline['growth_mib']:.0f} MiB: baseline / ours ≥ {ratio:.0f}×"
                )
        print(line)


if __name__ == "__main__":
    main()
