"""What the issue-5 benchmarks share: a throw-away PostgreSQL database, server processes on
127.0.0.1 over it and a Redis database of their own, Django's ORM in the bench process for
the setup, and the few statistics they print.

Nothing here touches the shared services beyond that: each run creates
`videohost_bench_<name>_<pid>` with `createdb` and drops it at the end, uses one Redis
database from 8 to 15 (emptied at the end) with a random key and channel prefix, and stops
every process it started. `BENCH_QUICK=1` asks the scripts for a smoke run with small N.
"""

import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from machine import describe  # noqa: E402

PYTHON = sys.executable
QUICK = os.environ.get("BENCH_QUICK") == "1"
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_USER = os.environ.get("BENCH_PG_USER", "postgres")
REDIS_HOST = "127.0.0.1:6379"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def banner(title: str) -> None:
    print(f"== {title}")
    print(describe())
    print(f"load:    {load_average()} (1/5/15 min) on {os.cpu_count()} cores")
    print(f"quick:   {'yes (BENCH_QUICK=1: small N, a smoke run)' if QUICK else 'no'}")
    print(flush=True)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile; NaN for no samples."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def raise_nofile() -> int:
    """Soft RLIMIT_NOFILE up to the hard limit, inherited by every process started after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class BenchDatabase:
    """A PostgreSQL database of this run only, migrated once, dropped at the end."""

    def __init__(self, name: str):
        self.name = f"videohost_bench_{name}_{os.getpid()}"

    @property
    def url(self) -> str:
        return f"postgres://{PG_USER}@{PG_HOST}:5432/{self.name}"

    def create(self) -> None:
        subprocess.run(["createdb", "-h", PG_HOST, "-U", PG_USER, self.name], check=True)

    def migrate(self, env: dict[str, str]) -> None:
        subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput"],
            env=env,
            cwd=ROOT,
            check=True,
            stdout=subprocess.DEVNULL,
        )

    def drop(self) -> None:
        # --force: a connection a killed server left behind must not keep the database alive.
        subprocess.run(
            ["dropdb", "-h", PG_HOST, "-U", PG_USER, "--if-exists", "--force", self.name],
            check=False,
        )


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


class Workspace:
    """Database, Redis database, MEDIA_ROOT and environment of one benchmark run."""

    def __init__(self, name: str, *, redis_db: int | None):
        if redis_db is not None and not 8 <= redis_db <= 15:
            raise ValueError("benchmarks use Redis databases 8 to 15 only")
        self.database = BenchDatabase(name)
        self.redis_db = redis_db
        self.folder = Path(tempfile.mkdtemp(prefix=f"videohost-bench-{name}-"))
        self.media_root = self.folder / "media"
        (self.media_root / "private").mkdir(parents=True)
        (self.media_root / "public").mkdir(parents=True)
        self.servers: list[ServerProcess] = []

    @property
    def redis_url(self) -> str | None:
        return None if self.redis_db is None else f"redis://{REDIS_HOST}/{self.redis_db}"

    def env(self, **extra: str) -> dict[str, str]:
        """The servers' environment: production-like (DEBUG off, psycopg's pool, as
        docker-compose.yml runs them) over this run's database and Redis."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DATABASE_URL", "REDIS_URL", "STORAGE_BACKEND"}
        }
        env.update(
            DJANGO_SETTINGS_MODULE="videohost.settings",
            DEBUG="0",
            SECRET_KEY=self.secret_key,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            DATABASE_URL=self.database.url,
            DATABASE_POOL="1",
            MEDIA_ROOT=str(self.media_root),
            UPLOAD_TEMP_DIR=str(self.folder / "uploads"),
            CACHE_KEY_PREFIX=self.prefix,
            LOG_LEVEL="WARNING",
            PYTHONDONTWRITEBYTECODE="1",
        )
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        env.update(extra)
        return env

    def __enter__(self) -> "Workspace":
        # `kill` (or a timeout) must still run __exit__: servers, database and Redis keys
        # would otherwise outlive the run.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        self.secret_key = secrets.token_urlsafe(40)
        self.prefix = f"bench-{secrets.token_hex(4)}"
        self.database.create()
        self.database.migrate(self.env())
        return self

    def use_django(self, **extra: str) -> None:
        """Set Django up in this process over the run's database (for the setup's ORM)."""
        os.environ.update(self.env(**extra))
        import django

        django.setup()

    def start_server(self, *, env: dict[str, str] | None = None, args: list[str] = ()):
        server = ServerProcess(
            [PYTHON, "-m", "videohost.server", *args], env or self.env(), cwd=ROOT
        )
        self.servers.append(server)
        return server

    def __exit__(self, *exc_info) -> None:
        for server in self.servers:
            server.stop()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001, S110 - Django may never have been set up
            pass
        self.database.drop()
        if self.redis_db is not None:
            subprocess.run(
                ["redis-cli", "-n", str(self.redis_db), "FLUSHDB"],
                check=False,
                stdout=subprocess.DEVNULL,
            )
        shutil.rmtree(self.folder, ignore_errors=True)


class ServerProcess:
    """A server on 127.0.0.1 and a free port; its stderr is kept, errors in it are counted."""

    def __init__(self, command: list[str], env: dict[str, str], *, cwd: Path = ROOT):
        # The port is chosen here rather than with -p 0: at LOG_LEVEL=WARNING daphne does not
        # say which port it got.
        self.port = free_port()
        self.process = subprocess.Popen(
            [*command, "-b", "127.0.0.1", "-p", str(self.port)],
            cwd=cwd,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.log: list[str] = []
        threading.Thread(target=self._drain, daemon=True).start()
        if not wait_until_listening(self.process, self.port, timeout=60):
            self.stop()
            raise RuntimeError("the server did not start:\n" + "".join(self.log[-30:]))

    def _drain(self) -> None:
        for line in self.process.stderr:
            self.log.append(line)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def errors(self) -> list[str]:
        return [line for line in self.log if "Traceback" in line or " ERROR " in line]

    def rss_kib(self) -> int:
        return process_rss_kib(self.pid)

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def stop(self) -> None:
        stop_process(self.process, timeout=20)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until_listening(process: subprocess.Popen, port: int, *, timeout: float) -> bool:
    """Whether `process` opened `port` within `timeout` s (False at once if it exited)."""
    deadline = time.monotonic() + timeout
    while not port_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def stop_process(process: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM, and SIGKILL if it has not exited within `timeout` s."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def process_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(re.search(r"^VmRSS:\s+(\d+) kB", status.read(), re.M).group(1))


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (its threads included)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class CpuMeter:
    """CPU use of some processes over an interval, as a share of one core."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.start()

    def start(self) -> None:
        self.wall = time.monotonic()
        self.cpu = [process_cpu_seconds(pid) for pid in self.pids]

    def read(self) -> list[float]:
        elapsed = max(1e-9, time.monotonic() - self.wall)
        return [
            (process_cpu_seconds(pid) - before) / elapsed
            for pid, before in zip(self.pids, self.cpu, strict=True)
        ]


def create_users(prefix: str, count: int):
    """`count` users and a knox token each, in bulk (passwords unusable: tokens only)."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from knox.models import AuthToken

    from accounts.models import User

    unusable = make_password(None)
    User.objects.bulk_create(
        User(username=f"{prefix}{i}", email=f"{prefix}{i}@bench.invalid", password=unusable)
        for i in range(count)
    )
    users = list(User.objects.filter(username__startswith=prefix).order_by("pk"))
    tokens = [
        AuthToken.objects.create(user=user, expiry=settings.AUTH_TOKEN_TTL)[1] for user in users
    ]
    return users, tokens


def author_with_video(username: str, *, duration: float = 7200.0, file_name: str = ""):
    """A channel owner, a token, and a ready public video of theirs (no file unless named)."""
    from django.conf import settings
    from knox.models import AuthToken

    from accounts.models import User
    from channels_app.models import Channel
    from videos.models import AccessLevel, Video, VideoStatus

    owner = User.objects.create(
        username=username, email=f"{username}@bench.invalid", is_author=True
    )
    channel = Channel.objects.create(owner=owner, title=f"{username}'s bench channel")
    video = Video.objects.create(
        channel=channel,
        title="Bench video",
        access_level=AccessLevel.PUBLIC,
        status=VideoStatus.READY,
        duration=duration,
        file=file_name,
        mime_type="video/mp4",
    )
    token = AuthToken.objects.create(user=owner, expiry=settings.AUTH_TOKEN_TTL)[1]
    return owner, token, video


def ws_connect(url: str, token: str | None, origin: str, **options):
    """A `websockets` client as the benchmarks use it: Bearer header and Origin as a browser
    page of the site would send, no compression (daphne does not negotiate it, so the
    baseline servers must not get it either)."""
    from websockets.asyncio.client import connect

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    options = {"open_timeout": 120, "close_timeout": 5, "max_size": 2**22, **options}
    return connect(url, additional_headers=headers, origin=origin, compression=None, **options)
