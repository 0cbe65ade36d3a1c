"""A thousand clients come and go for a minute against one server process.

One real daphne process (`python -m videohost.server`) serves 50 rooms, each with its host
connected throughout. A thousand guests (asyncio + `websockets` in this process) keep
arriving — one who has not come yet if any is left, else a random one of those not
connected, up to ARRIVALS_PER_SECOND times a second and with at most JOINING joins under
way — join, chat, stay a while and vanish: TCP dropped
without a close frame, as a phone losing signal does. For 60 seconds, in two halves; after
each, everyone is gone. Then:

- no error reached a client: no 5xx or dropped handshake, no close by the server (1011 or
  any other), no `error` frame, and every chat message was acknowledged;
- the server's memory after the second half is within 20 MiB of what it was after the first
  (the same traffic again: a leak of a few KiB per visit would show);
- nobody is left "connected": every RoomParticipant.connections is back to 0 within seconds.

How many of the thousand get in is what one process manages: a join costs it ~50 ms of its
single database thread (join ~16, room_state ~18, leave ~8; chat has threads of its own),
so a process takes 15–20 joins a second, fewer when the machine is busy (on CI's shared
cores with the suite running beside: ~660 of the 1,000 in the minute). Past that,
handshakes would queue beyond daphne's 5 s handshake timeout and be dropped (room.js
retries with backoff), which is why arrivals wait while JOINING joins are under way: the
test checks what churn leaves behind, not the process's capacity (bench/idle_connections.py
measures that).

Runs where production runs: PostgreSQL (with Redis too in CI). Against SQLite it would
measure SQLite's single writer, not the server, so it is skipped there. About 80 s.
"""

import asyncio
import json
import random
import resource
import time
import uuid
from collections import Counter

import pytest
from django.conf import settings
from django.db import connections
from knox.models import AuthToken
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from accounts.models import User
from rooms import services
from rooms.models import RoomParticipant
from videohost.testing import VideoFactory
from videohost.testing_servers import AppServer, app_env, database_url_for_subprocess, wait_for

GUESTS = 1000
ROOMS = 50
CHURN_SECONDS = 60
ARRIVALS_PER_SECOND = 20
JOINING = 6  # joins under way at once, at most
HOLD = (2.0, 6.0)  # seconds a guest stays before its connection drops
MEMORY_SLACK = 20 * 1024 * 1024
FRAME_TIMEOUT = 30
FILE_LIMIT = 8192

pytestmark = pytest.mark.django_db(transaction=True)


def raise_file_limit() -> None:
    """A thousand sockets each side, plus the database's: above the usual 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = FILE_LIMIT if hard == resource.RLIM_INFINITY else min(FILE_LIMIT, hard)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


@pytest.fixture
def churn_server(transactional_db, tmp_path):
    if connections["default"].vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL (DATABASE_URL=postgres://…): with SQLite's single writer this "
            "would measure SQLite, not the server; CI's PostgreSQL + Redis run has it"
        )
    raise_file_limit()
    server = AppServer(
        app_env(
            database_url=database_url_for_subprocess(),
            redis_url=settings.REDIS_URL,
            # As docker-compose runs it: a connection per database call would cost more
            # than the call (the consumer's database work runs on one thread per process).
            DATABASE_POOL="1",
            ROOM_HOST_GRACE_SECONDS="300",
        ),
        tmp_path / "app.log",
        preexec=raise_file_limit,
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def make_rooms_and_guests() -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(room id, host token) per room, and (room id, guest token) per guest."""
    rooms = []
    for _ in range(ROOMS):
        video = VideoFactory(duration=600.0)
        room = services.room_create(user=video.channel.owner, video_id=video.pk)
        _, token = AuthToken.objects.create(
            user=video.channel.owner, expiry=settings.AUTH_TOKEN_TTL
        )
        rooms.append((room.pk, token))
    run = uuid.uuid4().hex[:6]
    guests = User.objects.bulk_create(
        User(username=f"guest-{run}-{n}", email=f"guest-{run}-{n}@example.com", password="!")
        for n in range(GUESTS)
    )
    return rooms, [
        (rooms[n % ROOMS][0], AuthToken.objects.create(user=guest)[1])
        for n, guest in enumerate(guests)
    ]


class Tally:
    def __init__(self) -> None:
        self.problems: Counter = Counter()
        self.examples: dict[str, str] = {}
        self.cycles = 0
        self.acked = 0
        self.latencies: list[float] = []
        self.visitors: set[str] = set()
        self.connected = 0
        self.most_connected = 0

    def problem(self, kind: str, detail: str) -> None:
        self.problems[kind] += 1
        self.examples.setdefault(kind, detail)


async def visit(
    base: str, room_id: int, token: str, tally: Tally, *, hold: float, joined: asyncio.Event
) -> None:
    """Join, chat, stay `hold` seconds reading what comes, then drop the TCP connection.
    `joined` is set once the join is over (room_state received, or refused)."""
    arrived = time.monotonic()
    try:
        socket = await connect(
            f"{base}/ws/rooms/{room_id}/",
            origin="http://127.0.0.1",
            additional_headers={"Authorization": f"Bearer {token}"},
            open_timeout=FRAME_TIMEOUT,
            max_queue=None,
        )
    except InvalidStatus as exc:
        tally.problem(f"handshake {exc.response.status_code}", str(exc))
        joined.set()
        return
    except InvalidHandshake as exc:
        tally.problem("handshake dropped", repr(exc))
        joined.set()
        return
    except (OSError, TimeoutError) as exc:
        tally.problem("no connection", repr(exc))
        joined.set()
        return
    client_id = uuid.uuid4().hex
    acked = counted = False
    until = time.monotonic() + hold
    try:
        try:
            first = json.loads(await asyncio.wait_for(socket.recv(), FRAME_TIMEOUT))
        finally:
            joined.set()
        if first["type"] != "room_state":
            tally.problem("no room_state", str(first)[:200])
            return
        tally.latencies.append(time.monotonic() - arrived)
        tally.visitors.add(token)
        counted = True
        tally.connected += 1
        tally.most_connected = max(tally.most_connected, tally.connected)
        await socket.send(
            json.dumps({"type": "chat_message", "message": "hi", "client_id": client_id})
        )
        while (left := until - time.monotonic()) > 0 or not acked:
            try:
                frame = json.loads(
                    await asyncio.wait_for(
                        socket.recv(), max(left, FRAME_TIMEOUT if not acked else 0.01)
                    )
                )
            except TimeoutError:
                if not acked:
                    tally.problem("chat not acknowledged", client_id)
                break
            if frame["type"] == "error":
                tally.problem(f"error frame {frame.get('code')}", str(frame)[:200])
            elif frame["type"] == "chat_message_event" and frame.get("client_id") == client_id:
                acked = True
                tally.acked += 1
    except ConnectionClosed as exc:
        code = exc.rcvd.code if exc.rcvd else None
        tally.problem(f"closed by the server {code}", str(exc))
    finally:
        # Gone without a goodbye: no close frame, the TCP connection just ends.
        if socket.transport is not None:
            socket.transport.abort()
        if counted:
            tally.connected -= 1
        tally.cycles += 1


async def arrivals(base: str, guests, tally: Tally, seconds: float) -> None:
    """A guest not connected now visits, one who never came before the others, up to
    ARRIVALS_PER_SECOND times a second and with at most JOINING joins under way: on a
    machine busy with other work the server gets fewer arrivals rather than a queue longer
    than daphne's 5 s handshake timeout."""
    # Everyone gets a first visit before anyone a second, across both halves: as many of
    # the thousand as the minute allows come through.
    never = [i for i, (_, token) in enumerate(guests) if token not in tally.visitors]
    random.shuffle(never)
    idle = [i for i, (_, token) in enumerate(guests) if token in tally.visitors]
    visiting: set[asyncio.Task] = set()
    joining = asyncio.Semaphore(JOINING)

    async def one(index: int, joined: asyncio.Event) -> None:
        room_id, token = guests[index]
        try:
            await visit(base, room_id, token, tally, hold=random.uniform(*HOLD), joined=joined)
        finally:
            joined.set()
            idle.append(index)

    async def release_when(joined: asyncio.Event) -> None:
        await joined.wait()
        joining.release()

    deadline = time.monotonic() + seconds - HOLD[1]  # the last ones leave in time
    next_at = time.monotonic()
    while next_at < deadline:
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await joining.acquire()
        next_at = max(next_at + 1 / ARRIVALS_PER_SECOND, time.monotonic())
        if not never and not idle:
            joining.release()
            continue
        guest = never.pop() if never else idle.pop(random.randrange(len(idle)))
        joined = asyncio.Event()
        for task in (
            asyncio.create_task(one(guest, joined)),
            asyncio.create_task(release_when(joined)),
        ):
            visiting.add(task)
            task.add_done_callback(visiting.discard)
    await asyncio.gather(*list(visiting))


async def hosts_stay(base: str, rooms, stop: asyncio.Event, tally: Tally) -> None:
    """Each room's host connected throughout (its room would otherwise pause and close)."""
    sockets = []
    for room_id, token in rooms:
        try:
            socket = await connect(
                f"{base}/ws/rooms/{room_id}/",
                origin="http://127.0.0.1",
                additional_headers={"Authorization": f"Bearer {token}"},
                open_timeout=FRAME_TIMEOUT,
                max_queue=None,
            )
        except (InvalidHandshake, OSError, TimeoutError) as exc:
            tally.problem("host could not connect", repr(exc))
            continue
        sockets.append(socket)

    async def drain(socket) -> None:
        try:
            async for text in socket:
                frame = json.loads(text)
                if frame["type"] == "error":
                    tally.problem(f"host error frame {frame.get('code')}", text[:200])
        except ConnectionClosed as exc:
            if not stop.is_set():
                tally.problem("host closed by the server", str(exc))

    readers = [asyncio.create_task(drain(socket)) for socket in sockets]
    await stop.wait()
    for socket in sockets:
        await socket.close()
    await asyncio.gather(*readers)


def connected_count() -> int:
    return RoomParticipant.objects.filter(connections__gt=0).count()


def test_a_thousand_sockets_churning_for_a_minute_leave_no_errors_leaks_or_ghosts(
    churn_server,
):
    base = churn_server.ws_url
    rooms, guests = make_rooms_and_guests()
    tally = Tally()

    async def half_a_minute() -> None:
        stop = asyncio.Event()
        hosts = asyncio.create_task(hosts_stay(base, rooms, stop, tally))
        await arrivals(base, guests, tally, CHURN_SECONDS / 2)
        stop.set()
        await hosts

    def churn(what: str) -> int:
        """Half the minute, then everyone gone; the server's RSS."""
        started, visits = time.monotonic(), tally.cycles
        asyncio.run(half_a_minute())
        took = time.monotonic() - started
        try:
            wait_for(
                lambda: connected_count() == 0,
                timeout=20,
                interval=0.5,
                what=f"every connection count back at 0 after {what}",
            )
        except AssertionError:
            left = list(
                RoomParticipant.objects.filter(connections__gt=0).values_list(
                    "user__username", "connections"
                )[:20]
            )
            print(f"still connected after {what}: {connected_count()} {left}")
            print(dict(tally.problems), tally.examples, tally.cycles, took)
            print(churn_server.log_tail(30))
            raise
        time.sleep(1)  # the last disconnects' bookkeeping, and their garbage
        rss = churn_server.rss_bytes()
        latencies = sorted(tally.latencies)
        print(
            f"{what}: {tally.cycles - visits} visits by {len(tally.visitors)} guests so far, "
            f"{took:.1f} s, at most {tally.most_connected} connected at once; connect to "
            f"room_state p50 {latencies[len(latencies) // 2]:.3f} s, max {latencies[-1]:.3f} s;"
            f" RSS {rss / 2**20:.1f} MiB"
        )
        tally.latencies.clear()
        return rss

    # The first half warms up (caches, pools, arenas, the ORM's compiled state); the second,
    # the same traffic again, must not need more memory.
    warm_rss = churn("the first half")
    end_rss = churn("the second half")

    log = churn_server.log.read_text(errors="replace")
    assert not tally.problems, (dict(tally.problems), tally.examples)
    assert tally.acked == tally.cycles
    assert "Traceback" not in log, churn_server.log_tail(80)
    assert end_rss - warm_rss < MEMORY_SLACK, (warm_rss, end_rss)
    assert not RoomParticipant.objects.filter(connections__gt=0).exists()
