"""Redis dies under a room with people in it, and comes back.

A real server process (daphne, `python -m videohost.server`) uses a private redis-server
started on a free port for its cache, login throttle and channel layer, and the test's own
database. A host and a guest are in a room over real WebSockets when Redis is killed
(SIGKILL, no goodbye). While it is away: REST reads that need only the database answer 200,
what needs Redis answers 503 with Retry-After in the API's envelope (never 500), open sockets
stay up, new ones are told to try again later (4503: daphne cannot send 1013), and chat is
either acknowledged and stored, or refused and not stored. Redis comes back empty on the same
port: the refused client reconnects as room.js does, every client gets the current
`room_state`, and every acknowledged message is in the database.
"""

import asyncio
import json
import shutil

import pytest
import requests
from websockets.exceptions import ConnectionClosedError

from rooms.consumers import CLOSE_TRY_AGAIN_LATER
from rooms.models import ChatMessage, Room
from rooms.tests.test_consumer_support import make_room, token_for
from videohost.testing_servers import (
    AppServer,
    RedisServer,
    app_env,
    database_url_for_subprocess,
    scratch_dir,
)
from videohost.tests.room_client import RoomClient


@pytest.fixture
def redis_server():
    workdir = scratch_dir("redis")
    server = RedisServer(workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def app_on_private_redis(transactional_db, redis_server, tmp_path):
    server = AppServer(
        app_env(database_url=database_url_for_subprocess(), redis_url=redis_server.url),
        tmp_path / "app.log",
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()


def assert_unavailable(response) -> None:
    assert response.status_code == 503, (response.status_code, response.text[:300])
    assert int(response.headers["Retry-After"]) > 0
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_a_room_lives_through_a_redis_outage_and_loses_no_acknowledged_chat(
    app_on_private_redis, redis_server, author, viewer
):
    app = app_on_private_redis
    room = make_room(author)
    host_token, guest_token = token_for(author), token_for(viewer)
    api = requests.Session()
    as_host = {"Authorization": f"Bearer {host_token}"}
    outcomes: list[tuple[str, str, str]] = []  # (outcome, client_id, text) of each message

    def get(path: str, **kwargs):
        return asyncio.to_thread(api.get, app.url + path, timeout=10, **kwargs)

    def login():
        return asyncio.to_thread(
            api.post,
            app.url + "/api/auth/login",
            json={"username": "victor", "password": "not-the-password"},
            timeout=10,
        )

    async def scenario():
        host = RoomClient(app.ws_url, room.pk, host_token, "host")
        guest = RoomClient(app.ws_url, room.pk, guest_token, "guest")
        late = RoomClient(app.ws_url, room.pk, guest_token, "guest's second tab")
        await host.connect_once()
        await guest.connect_once()
        await host.frame_of("user_joined")
        try:
            outcomes.append(await host.chat("before the outage"))
            assert outcomes[-1][0] == "acked"
            assert (await guest.frame_of("chat_message_event"))["message"] == "before the outage"

            redis_server.kill()

            # What needs only the database keeps answering.
            for path in ("/api/videos", "/api/channels", f"/api/rooms/{room.pk}", "/"):
                response = await get(path, headers=as_host)
                assert response.status_code == 200, (path, response.status_code)
            assert (await get("/healthz")).status_code == 200
            ready = await get("/readyz")
            assert ready.status_code == 503, ready.text
            assert ready.json()["failing"] == ["channel_layer"]
            # The login throttle counts in Redis: no login rather than unthrottled guessing.
            assert_unavailable(await login())

            # The host seeks and types: the seek is stored (the database is the room's
            # truth), typing is dropped quietly; neither is an error.
            await host.socket.send(json.dumps({"type": "seek", "position": 42.0}))
            await host.socket.send(json.dumps({"type": "typing"}))
            # Chat is acknowledged (then stored) or refused — never acknowledged unstored.
            for client in (guest, host):
                outcomes.append(await client.chat(f"during the outage from {client.name}"))
                assert outcomes[-1][0] in ("acked", "refused"), outcomes[-1]
            refusals = [f for f in host.frames + guest.frames if f["type"] == "error"]
            assert {f["code"] for f in refusals} <= {"SERVICE_UNAVAILABLE"}, refusals
            assert all(f["retry_after"] > 0 for f in refusals)

            # Room settings through REST are stored, so they succeed; sockets learn them in
            # the room_state that follows the outage.
            patched = await asyncio.to_thread(
                api.patch,
                f"{app.url}/api/rooms/{room.pk}",
                json={"guests_can_control": True},
                headers=as_host,
                timeout=10,
            )
            assert patched.status_code == 200, (patched.status_code, patched.text)

            # A socket opened now is told to come back later, and does as room.js would.
            with pytest.raises(ConnectionClosedError) as refused:
                await late.connect_once()
            assert refused.value.rcvd.code == CLOSE_TRY_AGAIN_LATER
            reconnecting = asyncio.create_task(late.reconnect(within=30))

            await asyncio.sleep(1)
            redis_server.start()  # same port, empty, as a restarted cache comes back

            # Open sockets stayed up and get the room as it is now; the refused one is in.
            for client in (host, guest):
                state = await client.frame_of("room_state", timeout=15)
                client.states.append(state)
            state = await asyncio.wait_for(reconnecting, 30)
            assert set(late.closes) <= {CLOSE_TRY_AGAIN_LATER}, late.closes
            for client in (host, guest, late):
                current = client.states[-1]
                assert current["room"]["guests_can_control"] is True
                assert current["state"]["position"] == pytest.approx(42.0, abs=1)
                history = {message["message"] for message in current["history"]}
                acked = {text for outcome, _, text in outcomes if outcome == "acked"}
                assert acked <= history, (client.name, acked, history)
            assert host.socket.close_code is None and guest.socket.close_code is None

            # Live again, across the restarted Redis, for every socket.
            outcomes.append(await guest.chat("after the outage"))
            assert outcomes[-1][0] == "acked"
            assert (await host.frame_of("chat_message_event"))["message"] == "after the outage"
            assert (await late.frame_of("chat_message_event"))["message"] == "after the outage"
            assert (await login()).status_code == 401
            assert (await get("/readyz")).status_code == 200
        finally:
            for client in (host, guest, late):
                await client.close()

    try:
        asyncio.run(scenario())
    except BaseException:
        print(app.log_tail(150))
        raise

    stored = set(ChatMessage.objects.filter(room=room).values_list("client_id", flat=True))
    acked = {client_id for outcome, client_id, _ in outcomes if outcome == "acked"}
    refused = {client_id for outcome, client_id, _ in outcomes if outcome == "refused"}
    assert acked <= stored, f"acknowledged but not stored: {acked - stored}"
    assert not refused & stored, f"refused but stored: {refused & stored}"
    assert Room.objects.get(pk=room.pk).is_active
