"""What the consumer tests share: rooms, credentials and sockets through the real ASGI app.

Holds no tests. Every socket goes through `videohost.asgi.application`, so the Origin check,
the session and Bearer middleware and the URL router are the production ones.

The consumer test modules run on one event loop for the whole session (CONSUMER_TESTS):
channels_redis keeps per-loop state (receive locks) on its layer instance, which Channels
caches per process, so a layer carried from one test's loop to the next fails with "bound to
a different event loop". A server process has one loop for its life: this is what it sees.
"""

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client
from knox.models import AuthToken

from rooms import services
from rooms.models import Room
from videohost.testing import VideoFactory

CONSUMER_TESTS = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.asyncio(loop_scope="session"),
]

ORIGIN = (b"origin", b"http://127.0.0.1")
DURATION = 120.0


def token_for(user) -> str:
    _, token = AuthToken.objects.create(user=user, expiry=settings.AUTH_TOKEN_TTL)
    return token


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def make_room(host, *, channel=None, access_level: str = "public", **options) -> Room:
    """A room on a fresh ready video of `channel` (the host's own by default)."""
    channel = channel or host.channel
    video = VideoFactory(channel=channel, access_level=access_level, duration=DURATION)
    return services.room_create(user=host, video_id=video.pk, **options)


def join(room: Room, user) -> Room:
    return services.room_join(room_id=room.pk, user=user)


def headers_for(user, *, auth: str = "bearer", origin=ORIGIN) -> list:
    headers = [origin] if origin else []
    if user is not None and auth == "bearer":
        headers.append((b"authorization", f"Bearer {token_for(user)}".encode()))
    elif user is not None and auth == "session":
        headers.append((b"cookie", session_cookie_for(user).encode()))
    return headers


def communicator(room_id: int, headers: list, *, path: str | None = None):
    from videohost.asgi import application

    return WebsocketCommunicator(application, path or f"/ws/rooms/{room_id}/", headers=headers)


async def open_socket(room_id: int, user=None, *, auth: str = "bearer", origin=ORIGIN):
    """A socket that completed the handshake (credentials built in the DB thread)."""
    headers = await database_sync_to_async(headers_for)(user, auth=auth, origin=origin)
    socket = communicator(room_id, headers)
    connected, _ = await socket.connect()
    assert connected
    return socket


async def enter(room_id: int, user, *, auth: str = "bearer"):
    """A socket of `user` in the room, its room_state read: (socket, room_state)."""
    socket = await open_socket(room_id, user, auth=auth)
    first = await socket.receive_json_from()
    assert first["type"] == "room_state", first
    return socket, first


async def host_and_guest(author, viewer, **options):
    """A room of `author`'s, with the host's and a guest's sockets in, the join announced."""
    room = await database_sync_to_async(make_room)(author, **options)
    host, _ = await enter(room.pk, author)
    guest, _ = await enter(room.pk, viewer)
    assert (await host.receive_json_from())["type"] == "user_joined"
    return room, host, guest


async def close_code(socket, timeout: float = 1) -> int:
    """The code of the close frame the server sends next (frames before it are skipped)."""
    while True:
        output = await socket.receive_output(timeout)
        if output["type"] == "websocket.close":
            return output.get("code", 1000)


async def frames_until(socket, kind: str, timeout: float = 1) -> list[dict]:
    """Frames up to and including the first of type `kind`."""
    seen = []
    while True:
        frame = await socket.receive_json_from(timeout)
        seen.append(frame)
        if frame["type"] == kind:
            return seen


async def send_raw(socket, text: str) -> None:
    await socket.send_to(text_data=text)


async def send(socket, frame: dict) -> None:
    await socket.send_to(text_data=json.dumps(frame))


async def disconnect_all(*sockets) -> None:
    for socket in sockets:
        await socket.disconnect()
