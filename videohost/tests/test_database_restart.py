"""PostgreSQL restarts under running servers, which carry on without being restarted.

A private PostgreSQL cluster (initdb on a free port, never the machine's shared one) serves two
real server processes at once: one opening a connection per request, one with psycopg's pool
(DATABASE_POOL=1). The cluster stops (`pg_ctl stop -m fast`: every session ends at once, as on
a restart or failover). While it is down, pages and API calls answer 503 with Retry-After —
the API's envelope under /api/, a plain page elsewhere — `/readyz` answers 503 naming the
database and `/healthz` 200. Within 5 seconds of the cluster's return, everything answers
normally again, the pool included; and a background worker (`manage.py worker`) has waited
the outage out rather than exited, and runs jobs again. A watch room's sockets stay open
through it: a control meanwhile is answered SERVICE_UNAVAILABLE with `retry_after` and changes
nothing, and within 5 seconds of the return the host's controls reach the guest again — also
those a server stores on its event loop's own connection (videohost.loop_database), which the
restart cut as well.
"""

import asyncio
import itertools
import json
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from videohost.testing_servers import (
    BASE_DIR,
    AppServer,
    PostgresCluster,
    WorkerProcess,
    app_env,
    scratch_dir,
    wait_for,
)
from videohost.tests.room_client import RoomClient

RECOVERY_SECONDS = 5
PASSWORD = "a-long-enough-password-2026"


@pytest.fixture
def private_postgres():
    workdir = scratch_dir("postgres")
    cluster = PostgresCluster(workdir)
    try:
        cluster.init()
        cluster.start()
        cluster.create_database("videohost")
        subprocess.run(  # noqa: S603 - fixed arguments
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=BASE_DIR,
            env=app_env(database_url=cluster.url("videohost")),
            check=True,
            capture_output=True,
            timeout=300,
        )
        yield cluster
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def servers(private_postgres, tmp_path):
    """The same app twice on the cluster: a connection per request, and psycopg's pool."""
    started = {}
    try:
        for name, pool in (("per-request", "0"), ("pooled", "1")):
            server = AppServer(
                app_env(database_url=private_postgres.url("videohost"), DATABASE_POOL=pool),
                tmp_path / f"{name}.log",
            )
            started[name] = server
            server.start()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
def worker(private_postgres, tmp_path):
    process = WorkerProcess(
        app_env(database_url=private_postgres.url("videohost"), DATABASE_POOL="1"),
        tmp_path / "worker.log",
        "--no-reload",
        "--interval",
        "0.2",
    )
    process.start()
    yield process
    process.stop()


def run_a_job(cluster: PostgresCluster) -> str:
    """Queue a real job (the abandoned-uploads clean-up) and wait for a worker to run it."""
    import psycopg

    subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            "from uploads.tasks import expire_uploads; print(expire_uploads.enqueue().id)",
        ],
        cwd=BASE_DIR,
        env=app_env(database_url=cluster.url("videohost")),
        check=True,
        capture_output=True,
        timeout=60,
    )

    def finished():
        with psycopg.connect(cluster.url("videohost")) as conn:
            row = conn.execute(
                "SELECT status FROM django_tasks_database_dbtaskresult ORDER BY enqueued_at DESC"
            ).fetchone()
        return row[0] if row and row[0] in ("SUCCESSFUL", "FAILED") else None

    return wait_for(finished, timeout=20, interval=0.2, what="the worker to run the job")


def register_and_log_in(base: str, username: str) -> str:
    created = requests.post(
        f"{base}/api/auth/register",
        json={"username": username, "email": f"{username}@example.com", "password": PASSWORD},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    login = requests.post(
        f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=10
    )
    assert login.status_code == 200, login.text
    return login.json()["token"]


def answers_normally(base: str, token: str, suffix: str) -> bool:
    """Reads, an authenticated read, a page, a write and readiness, all as usual."""
    auth = {"Authorization": f"Bearer {token}"}
    checks = [
        requests.get(f"{base}/api/videos", timeout=10).status_code == 200,
        requests.get(f"{base}/api/auth/me", headers=auth, timeout=10).status_code == 200,
        requests.get(f"{base}/", timeout=10).status_code == 200,
        requests.get(f"{base}/readyz", timeout=10).status_code == 200,
        requests.post(
            f"{base}/api/auth/register",
            json={"username": suffix, "email": f"{suffix}@example.com", "password": PASSWORD},
            timeout=10,
        ).status_code
        == 201,
    ]
    return all(checks)


def during_the_outage(base: str, token: str, username: str) -> list[str]:
    """What one server answers while the database is down; the list of what was wrong."""
    wrong = []
    auth = {"Authorization": f"Bearer {token}"}
    for path, headers in (("/api/videos", {}), ("/api/auth/me", auth)):
        started = time.monotonic()
        response = requests.get(base + path, headers=headers, timeout=30)
        took = time.monotonic() - started
        if (
            response.status_code != 503
            or int(response.headers.get("Retry-After", 0)) <= 0
            or response.json()["error"]["code"] != "SERVICE_UNAVAILABLE"
        ):
            wrong.append(f"{path}: {response.status_code} {response.text[:200]}")
        if took > 10:  # fails fast, not after TCP timeouts
            wrong.append(f"{path} took {took:.1f} s")
    login = requests.post(
        f"{base}/api/auth/login", json={"username": username, "password": PASSWORD}, timeout=30
    )
    if login.status_code != 503:
        wrong.append(f"login: {login.status_code}")
    page = requests.get(f"{base}/", timeout=30)
    if not (
        page.status_code == 503
        and page.headers["Content-Type"].startswith("text/html")
        and int(page.headers.get("Retry-After", 0)) > 0
        and "unavailable" in page.text.lower()
    ):
        wrong.append(f"page: {page.status_code} {page.text[:200]}")
    ready = requests.get(f"{base}/readyz", timeout=30)
    if ready.status_code != 503 or ready.json()["failing"] != ["database"]:
        wrong.append(f"readyz: {ready.status_code} {ready.text[:200]}")
    if requests.get(f"{base}/healthz", timeout=10).status_code != 200:
        wrong.append("healthz is not 200")
    return wrong


def test_a_database_restart_answers_503_meanwhile_and_heals_within_5_seconds(
    private_postgres, servers, worker
):
    tokens = {name: register_and_log_in(s.url, f"user-{name}") for name, s in servers.items()}
    assert run_a_job(private_postgres) == "SUCCESSFUL"

    private_postgres.stop(mode="fast")
    try:
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            checks = {
                name: pool.submit(during_the_outage, server.url, tokens[name], f"user-{name}")
                for name, server in servers.items()
            }
            wrong = {name: check.result() for name, check in checks.items()}
        assert not any(wrong.values()), wrong
        time.sleep(1.5)  # the worker's loop meets the outage too
    except BaseException:
        for server in servers.values():
            print(server.log_tail(40))
        raise
    finally:
        private_postgres.start()
    back_at = time.monotonic()

    attempts = itertools.count()

    def all_answer_normally_within(seconds: float, since: float, what: str) -> None:
        for name, server in servers.items():
            wait_for(
                lambda server=server, name=name: answers_normally(
                    server.url, tokens[name], f"{name}-{next(attempts)}"
                ),
                timeout=seconds - (time.monotonic() - since),
                interval=0.2,
                what=f"the {name} server to answer normally {what}",
            )
        print(f"normal {time.monotonic() - since:.2f} s {what}")

    all_answer_normally_within(RECOVERY_SECONDS, back_at, "after the outage")
    # And it stays so: no stale pooled connection left to fail a later request.
    for name, server in servers.items():
        for _ in range(3):
            assert answers_normally(server.url, tokens[name], f"{name}-{next(attempts)}"), name

    # The worker waited the outage out instead of exiting, and runs jobs again.
    assert worker.process.poll() is None, worker.log_tail()
    assert run_a_job(private_postgres) == "SUCCESSFUL", worker.log_tail()

    # A restart so quick that no request saw it: every pooled connection is stale at once.
    private_postgres.stop(mode="fast")
    private_postgres.start()
    all_answer_normally_within(RECOVERY_SECONDS, time.monotonic(), "after a quick restart")


ROOM_SETUP = """
from accounts.models import User
from rooms import services
from videohost.testing import ChannelFactory, VideoFactory
host, guest = User.objects.get(username="{host}"), User.objects.get(username="{guest}")
video = VideoFactory(channel=ChannelFactory(owner=host), duration=120.0, with_file=False)
room = services.room_create(user=host, video_id=video.pk)
services.room_join(room_id=room.pk, user=guest)
print(room.pk)
"""


def test_a_rooms_controls_are_refused_during_a_database_restart_and_work_within_5_seconds_after(
    private_postgres, servers
):
    server = servers["pooled"]
    tokens = {name: register_and_log_in(server.url, f"room-{name}") for name in ("host", "guest")}
    made = subprocess.run(  # noqa: S603 - fixed arguments
        [
            sys.executable,
            "manage.py",
            "shell",
            "-c",
            ROOM_SETUP.format(host="room-host", guest="room-guest"),
        ],
        cwd=BASE_DIR,
        env=app_env(database_url=private_postgres.url("videohost")),
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    room_id = int(made.stdout.split()[-1])
    try:
        asyncio.run(controls_through_a_restart(private_postgres, server.ws_url, room_id, tokens))
    except BaseException:
        print(server.log_tail(60))
        raise
    # The outage met the connection of the server's event loop too, which gave way to the
    # pool's (and the room's seeks went on after it).
    assert "The event loop's database connection failed" in server.log_tail(200)


async def controls_through_a_restart(cluster, ws_url: str, room_id: int, tokens: dict) -> None:
    host = RoomClient(ws_url, room_id, tokens["host"], "host")
    guest = RoomClient(ws_url, room_id, tokens["guest"], "guest")
    await host.connect_once()
    await guest.connect_once()

    async def seek(position: float) -> dict:
        """The guest's seek_event, or the error the host got instead."""
        await host.socket.send(json.dumps({"type": "seek", "position": position}))
        waits = [
            asyncio.ensure_future(host.frame_of("error")),
            asyncio.ensure_future(guest.frame_of("seek_event")),
        ]
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for wait in pending:
            wait.cancel()
        return done.pop().result()

    try:
        # From the second seek on, the server stores them on its loop's connection (opened
        # in the background at the first).
        for position in (1.0, 2.0, 3.0):
            assert (await seek(position))["position"] == position
            await asyncio.sleep(0.2)
        cluster.stop(mode="fast")
        try:
            refused = await seek(50.0)
            assert refused["type"] == "error", refused
            assert refused["code"] == "SERVICE_UNAVAILABLE" and refused["retry_after"] > 0
        finally:
            cluster.start()
        back_at = time.monotonic()
        position = 10.0
        while (answer := await seek(position))["type"] == "error":
            assert answer["code"] == "SERVICE_UNAVAILABLE", answer
            assert time.monotonic() - back_at < RECOVERY_SECONDS, "controls still refused"
            await asyncio.sleep(0.2)
            position += 1
        assert answer["position"] == position, answer
        print(f"a seek reached the guest {time.monotonic() - back_at:.2f} s after the return")
        for position in (60.0, 61.0, 62.0):  # and every one after it
            assert (await seek(position))["position"] == position
    finally:
        await host.close()
        await guest.close()
