"""Throw-away servers for the fault tests: Redis, a private PostgreSQL cluster, the app (daphne)
and the background worker, each a real process on a free 127.0.0.1 port.

The machine's shared PostgreSQL and Redis serve everyone's tests and are never stopped: a test
that kills a service starts its own copy here, and a fixture's finalizer stops whatever it
started, failed test or not. The app and the worker run as subprocesses with their own
environment (`app_env`), exactly as `python -m videohost.server` and `manage.py worker` run in
production, so what they do when a service disappears is what production would do.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections

BASE_DIR = Path(__file__).resolve().parent.parent
# Debian puts the server binaries of PostgreSQL in a versioned folder off PATH.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, *, timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `condition()` until it returns something truthy; that value, or AssertionError."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _stop_process(process: subprocess.Popen, *, timeout: float = 10) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


# --- Redis --------------------------------------------------------------------------------------


def require_redis_server() -> str:
    binary = shutil.which("redis-server")
    if not binary:
        pytest.skip("redis-server is not installed (apt-get install redis-server); CI has it")
    return binary


class RedisServer:
    """A private redis-server without persistence: `kill()` loses everything, as a crashed
    cache would; `start()` again comes back empty on the same port."""

    def __init__(self, workdir: Path):
        self.binary = require_redis_server()
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.workdir / "redis.log", "ab")  # noqa: SIM115 - closed once handed over
        self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],  # fmt: skip
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        wait_for(self.answers, timeout=10, what=f"redis-server on port {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL: no goodbye to the clients, as when the machine or the process dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process)


# --- PostgreSQL ---------------------------------------------------------------------------------


def _postgres_bin() -> Path:
    import glob

    def version(folder: str) -> int:
        name = Path(folder).parent.name
        return int(name) if name.isdigit() else 0

    for folder in sorted(glob.glob(POSTGRES_BIN_GLOB), key=version, reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    for name in ("initdb", "pg_ctl"):
        if shutil.which(name):
            return Path(shutil.which(name)).parent
    pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed; CI has them")


class PostgresCluster:
    """A private PostgreSQL cluster (initdb) on a free port, trust auth for `postgres` on
    127.0.0.1 only. initdb refuses to run as root: as root the cluster belongs to the
    `postgres` OS user (Debian's package creates it) and its commands run through runuser."""

    def __init__(self, workdir: Path):
        self.bin = _postgres_bin()
        self.port = free_port()
        self.workdir = workdir
        self.data = workdir / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if not runuser:
                pytest.skip("running as root without runuser: initdb cannot run")
            import pwd

            try:
                account = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and no `postgres` user for initdb to run as")
            os.chown(workdir, account.pw_uid, account.pw_gid)
            self.as_user = [runuser, "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        subprocess.run(  # noqa: S603 - fixed arguments
            [*self.as_user, *args], check=True, capture_output=True, timeout=timeout, cwd="/"
        )

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C.UTF-8",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.workdir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options,
            "-l", str(self.workdir / "postgres.log"), "-w", "-t", "30", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """`fast` ends every session at once (what clients see when the server restarts)."""
        if (self.data / "postmaster.pid").exists():
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')


# --- The app and the worker as real processes ---------------------------------------------------


def database_url_for_subprocess() -> str:
    """The test database as a URL another process can open: the server subprocesses see (and
    write) the very rows the test made, and the test asserts on what they stored."""
    params = connections["default"].settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        name = str(params["NAME"])
        if connections["default"].is_in_memory_db():
            pytest.skip("the server subprocess needs a file or server database")
        return f"sqlite:///{name}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    host = params.get("HOST") or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{auth}{host}{port}/{params['NAME']}"


def app_env(*, database_url: str, redis_url: str = "", **overrides: str) -> dict[str, str]:
    """The environment of an app or worker subprocess: production-like (DEBUG off), this
    test's database and Redis, throw-away media, and nothing inherited that points elsewhere."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DATABASE_POOL", "DJANGO_SETTINGS_MODULE"}
        and not key.startswith(("VIDEO_", "ROOM_", "STORAGE_", "PYTEST_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="videohost.settings",
        DEBUG="0",
        SECRET_KEY="fault-tests-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        DATABASE_URL=database_url,
        STORAGE_BACKEND="local",
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        UPLOAD_TEMP_DIR=str(settings.UPLOAD_TEMP_DIR),
        CACHE_KEY_PREFIX=f"videohost-fault-{os.getpid()}",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(overrides)
    return env


class AppServer:
    """`python -m videohost.server` (daphne, as `make run` and docker-compose run it)."""

    def __init__(self, env: dict[str, str], log: Path, *, preexec=None):
        self.env = env
        self.log = log
        self.port = free_port()
        self.preexec = preexec
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 30) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "-m", "videohost.server", "-b", "127.0.0.1", "-p", str(self.port)],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=self.preexec,  # only resource limits
            )

        def up() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited at start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:  # noqa: S310
                    return response.status == 200
            except (OSError, urllib.error.URLError):
                return False

        wait_for(up, timeout=timeout, interval=0.1, what="the app's /healthz")

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process)

    def rss_bytes(self) -> int:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


class WorkerProcess:
    """`manage.py worker`: the background job runner with its maintenance sweep."""

    def __init__(self, env: dict[str, str], log: Path, *args: str):
        self.env = env
        self.log = log
        self.args = args
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [sys.executable, "manage.py", "worker", *self.args],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        """SIGKILL: the process gets no chance to tidy up, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None:
            _stop_process(self.process, timeout=20)

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def scratch_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"videohost-{prefix}-"))
