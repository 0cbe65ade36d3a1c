"""Two real daphne processes sharing the Redis channel layer: a room works across them.

The host's socket is served by process A and the guest's by process B, as behind a load
balancer; only the channel layer (Redis) and the database connect them. Needs REDIS_URL: with
the in-memory layer each process would be an island, which is exactly what this test rules out.
"""

import asyncio
import json
from functools import partial

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connections

from rooms import services
from rooms.tests.test_consumer_support import CONSUMER_TESTS, make_room, token_for
from videohost.testing import stop_server_process

pytestmark = CONSUMER_TESTS

ORIGIN = "http://127.0.0.1"
TIMEOUT = 10


def _fresh_process_state() -> None:
    """Runs in each forked server before it serves.

    It must open its own database and Redis connections: sharing the test process's sockets
    would interleave two conversations on one connection. And asgiref's thread-sensitive
    executor was forked without its worker thread (fork copies only the calling thread), so
    every `database_sync_to_async` call would wait forever for it: start a new one.
    """
    from concurrent.futures import ThreadPoolExecutor

    from asgiref.sync import SyncToAsync
    from channels.layers import channel_layers

    for conn in connections.all(initialized_only=True):
        conn.connection = None
    channel_layers.backends.clear()
    SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)


@pytest.fixture
def two_servers(transactional_db):
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (Redis) for a shared channel layer")
    if connections["default"].vendor == "sqlite" and connections["default"].is_in_memory_db():
        pytest.skip("the servers need a file or server database")
    from channels.testing.live import make_application

    from videohost.server import StreamingDaphneProcess

    connections.close_all()
    processes = []
    try:
        for _ in range(2):
            process = StreamingDaphneProcess(
                host="127.0.0.1",
                get_application=partial(make_application, static_wrapper=None),
                setup=_fresh_process_state,
            )
            process.start()
            processes.append(process)
        for process in processes:
            if not process.ready.wait(timeout=30):
                raise RuntimeError("daphne did not start")
        yield [f"ws://127.0.0.1:{process.port.value}" for process in processes]
    finally:
        for process in processes:
            stop_server_process(process)


async def connect(base: str, room_id: int, user):
    from websockets.asyncio.client import connect as ws_connect

    token = await database_sync_to_async(token_for)(user)
    socket = await ws_connect(
        f"{base}/ws/rooms/{room_id}/",
        origin=ORIGIN,
        additional_headers={"Authorization": f"Bearer {token}"},
        open_timeout=TIMEOUT,
    )
    first = await receive(socket)
    assert first["type"] == "room_state", first
    return socket


async def receive(socket) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), TIMEOUT))


async def receive_until(socket, kind: str) -> dict:
    """The next frame of type `kind`; others (periodic state_sync) are skipped."""
    while True:
        frame = await receive(socket)
        if frame["type"] == kind:
            return frame


async def test_guest_on_another_process_receives_the_hosts_seek_and_chat(
    two_servers, author, viewer
):
    server_a, server_b = two_servers
    room = await database_sync_to_async(make_room)(author)
    host = await connect(server_a, room.pk, author)
    guest = await connect(server_b, room.pk, viewer)
    try:
        joined = await receive_until(host, "user_joined")
        assert joined["user_id"] == viewer.pk

        await host.send(json.dumps({"type": "seek", "position": 30.5}))
        seek = await receive_until(guest, "seek_event")
        assert seek["position"] == 30.5 and seek["by_user_id"] == author.pk

        await host.send(json.dumps({"type": "chat_message", "message": "hi B", "client_id": "a1"}))
        chat = await receive_until(guest, "chat_message_event")
        assert chat["message"] == "hi B" and chat["user_id"] == author.pk
        ack = await receive_until(host, "chat_message_event")
        assert ack["client_id"] == "a1" and ack["message_id"] == chat["message_id"]

        await guest.send(json.dumps({"type": "chat_message", "message": "hi A"}))
        assert (await receive_until(host, "chat_message_event"))["message"] == "hi A"

        # An event from a third process (this one, as the admin or an API worker would be).
        await database_sync_to_async(services.room_close)(room_id=room.pk, reason="moderator")
        for socket in (host, guest):
            assert (await receive_until(socket, "room_closed"))["reason"] == "moderator"
            await asyncio.wait_for(socket.wait_closed(), TIMEOUT)
            assert socket.close_code == 4000
    finally:
        await host.close()
        await guest.close()


async def test_kick_on_one_process_disconnects_the_guest_on_the_other(two_servers, author, viewer):
    server_a, server_b = two_servers
    room = await database_sync_to_async(make_room)(author)
    host = await connect(server_a, room.pk, author)
    guest = await connect(server_b, room.pk, viewer)
    try:
        await receive_until(host, "user_joined")
        await database_sync_to_async(services.room_kick)(
            room_id=room.pk, actor=author, user_id=viewer.pk
        )
        assert (await receive_until(guest, "kicked"))["by_user_id"] == author.pk
        await asyncio.wait_for(guest.wait_closed(), TIMEOUT)
        assert guest.close_code == 4003
        assert (await receive_until(host, "user_left"))["user_id"] == viewer.pk
    finally:
        await host.close()
        await guest.close()
