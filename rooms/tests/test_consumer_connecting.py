"""Opening a room socket: origin, the three ways to authenticate, join refusals and room_state."""

import time

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from knox.models import AuthToken

from rooms import services
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    ORIGIN,
    close_code,
    communicator,
    enter,
    headers_for,
    join,
    make_room,
    open_socket,
    send,
    token_for,
)
from videohost.testing import UserFactory

pytestmark = CONSUMER_TESTS


@pytest.fixture
def quick_auth(settings):
    settings.ROOM_AUTH_TIMEOUT_SECONDS = 0.2


# --- Origin -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.test",
        b"http://127.0.0.1.evil.test",
        b"http://localhost.evil.test",
        b"http://evil.test/127.0.0.1",
        b"http://127.0.0.1@evil.test",
        b"null",
        b"file://",
    ],
)
async def test_socket_from_a_foreign_origin_is_refused(author, origin):
    room = await database_sync_to_async(make_room)(author)
    headers = await database_sync_to_async(headers_for)(author, origin=(b"origin", origin))
    socket = communicator(room.pk, headers)
    connected, _ = await socket.connect()
    assert connected is False
    await socket.disconnect()


async def test_socket_without_an_origin_header_is_refused(author):
    room = await database_sync_to_async(make_room)(author)
    headers = await database_sync_to_async(headers_for)(author, origin=None)
    socket = communicator(room.pk, headers)
    connected, _ = await socket.connect()
    assert connected is False
    await socket.disconnect()


# --- Authentication -----------------------------------------------------------------------------


async def test_session_cookie_authenticates_the_socket(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    socket, state = await enter(room.pk, viewer, auth="session")
    assert state["you"] == {"user_id": viewer.pk, "is_host": False}
    await socket.disconnect()


def change_password(user) -> None:
    user.set_password("a-brand-new-passphrase")
    user.save()


async def test_session_cookie_of_a_user_who_changed_password_since_does_not_authenticate(
    author, viewer, quick_auth
):
    room = await database_sync_to_async(make_room)(author)
    headers = await database_sync_to_async(headers_for)(viewer, auth="session")
    await database_sync_to_async(change_password)(viewer)
    socket = communicator(room.pk, headers)
    connected, _ = await socket.connect()
    assert connected
    # Treated as no credentials at all: the socket waits for an auth frame, then closes.
    assert await close_code(socket, timeout=1) == 4001
    await socket.disconnect()


async def test_unknown_session_cookie_does_not_authenticate(author, quick_auth):
    room = await database_sync_to_async(make_room)(author)
    socket = communicator(room.pk, [ORIGIN, (b"cookie", b"sessionid=no-such-session")])
    connected, _ = await socket.connect()
    assert connected
    assert await close_code(socket, timeout=1) == 4001
    await socket.disconnect()


async def test_bearer_header_authenticates_the_socket(author):
    room = await database_sync_to_async(make_room)(author)
    socket, state = await enter(room.pk, author, auth="bearer")
    assert state["you"] == {"user_id": author.pk, "is_host": True}
    await socket.disconnect()


async def test_auth_frame_as_first_frame_authenticates_the_socket(author, viewer, quick_auth):
    room = await database_sync_to_async(make_room)(author)
    token = await database_sync_to_async(token_for)(viewer)
    socket = await open_socket(room.pk, None)
    await send(socket, {"type": "auth", "token": token})
    state = await socket.receive_json_from()
    assert state["type"] == "room_state"
    assert state["you"]["user_id"] == viewer.pk
    await socket.disconnect()


async def test_socket_without_credentials_closes_4001_when_no_auth_frame_comes(author, quick_auth):
    room = await database_sync_to_async(make_room)(author)
    socket = await open_socket(room.pk, None)
    assert await socket.receive_nothing(0.1)  # still waiting for an auth frame
    assert await close_code(socket, timeout=1) == 4001
    await socket.disconnect()


async def test_auth_frame_with_a_wrong_token_closes_4001(author, quick_auth):
    room = await database_sync_to_async(make_room)(author)
    socket = await open_socket(room.pk, None)
    await send(socket, {"type": "auth", "token": "0" * 64})
    assert await close_code(socket) == 4001
    await socket.disconnect()


async def test_first_frame_other_than_auth_closes_4001(author, quick_auth):
    room = await database_sync_to_async(make_room)(author)
    socket = await open_socket(room.pk, None)
    await send(socket, {"type": "chat_message", "message": "let me in"})
    assert await close_code(socket) == 4001
    await socket.disconnect()


async def test_token_in_the_url_is_not_accepted(author, viewer, quick_auth):
    room = await database_sync_to_async(make_room)(author)
    token = await database_sync_to_async(token_for)(viewer)
    socket = communicator(room.pk, [ORIGIN], path=f"/ws/rooms/{room.pk}/?token={token}")
    connected, _ = await socket.connect()
    assert connected
    assert await close_code(socket) == 4001
    await socket.disconnect()


async def test_wrong_bearer_header_closes_4001_at_once(author):
    room = await database_sync_to_async(make_room)(author)
    socket = communicator(room.pk, [ORIGIN, (b"authorization", b"Bearer " + b"f" * 64)])
    connected, _ = await socket.connect()
    assert connected
    assert await close_code(socket, timeout=0.5) == 4001
    await socket.disconnect()


async def test_expired_token_closes_4001(author, viewer):
    room = await database_sync_to_async(make_room)(author)

    def expired_token():
        instance, token = AuthToken.objects.create(user=viewer)
        AuthToken.objects.filter(pk=instance.pk).update(
            expiry=timezone.now() - timezone.timedelta(seconds=1)
        )
        return token

    token = await database_sync_to_async(expired_token)()
    socket = communicator(room.pk, [ORIGIN, (b"authorization", f"Bearer {token}".encode())])
    await socket.connect()
    assert await close_code(socket) == 4001
    await socket.disconnect()


async def test_token_of_an_inactive_user_closes_4001(author):
    room = await database_sync_to_async(make_room)(author)

    def inactive_token():
        user = UserFactory(username="gone")
        token = token_for(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return token

    token = await database_sync_to_async(inactive_token)()
    socket = communicator(room.pk, [ORIGIN, (b"authorization", f"Bearer {token}".encode())])
    await socket.connect()
    assert await close_code(socket) == 4001
    await socket.disconnect()


# --- Join refusals ------------------------------------------------------------------------------


async def test_user_who_cannot_watch_the_video_is_refused_with_4003(author, viewer):
    room = await database_sync_to_async(make_room)(author, access_level="sponsor")
    socket = await open_socket(room.pk, viewer)
    assert await close_code(socket) == 4003
    await socket.disconnect()


async def test_sponsor_may_join_a_room_on_a_sponsor_only_video(author, sponsor):
    room = await database_sync_to_async(make_room)(author, access_level="sponsor")
    socket, state = await enter(room.pk, sponsor)
    assert state["room"]["id"] == room.pk
    await socket.disconnect()


async def test_private_room_without_invitation_is_refused_with_4003(author, viewer):
    room = await database_sync_to_async(make_room)(author, is_private=True)
    socket = await open_socket(room.pk, viewer)
    assert await close_code(socket) == 4003
    await socket.disconnect()


async def test_invited_user_may_join_a_private_room(author, viewer):
    room = await database_sync_to_async(make_room)(author, is_private=True)
    await database_sync_to_async(services.room_invite)(
        room_id=room.pk, actor=author, user_id=viewer.pk
    )
    socket, state = await enter(room.pk, viewer)
    assert state["room"]["is_private"] is True
    await socket.disconnect()


async def test_kicked_user_is_refused_with_4003_when_coming_back(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    await database_sync_to_async(join)(room, viewer)
    await database_sync_to_async(services.room_kick)(
        room_id=room.pk, actor=author, user_id=viewer.pk
    )
    socket = await open_socket(room.pk, viewer)
    assert await close_code(socket) == 4003
    await socket.disconnect()


async def test_closed_room_is_refused_with_4004(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    await database_sync_to_async(services.room_close)(room_id=room.pk, reason="moderator")
    socket = await open_socket(room.pk, viewer)
    assert await close_code(socket) == 4004
    await socket.disconnect()


async def test_missing_room_is_refused_with_4004(viewer):
    socket = await open_socket(987654, viewer)
    assert await close_code(socket) == 4004
    await socket.disconnect()


async def test_full_room_is_refused_with_4009(author, viewer, stranger):
    room = await database_sync_to_async(make_room)(author, max_participants=2)
    await database_sync_to_async(join)(room, viewer)
    socket = await open_socket(room.pk, stranger)
    assert await close_code(socket) == 4009
    await socket.disconnect()


async def test_participant_of_a_full_room_may_still_connect(author, viewer):
    room = await database_sync_to_async(make_room)(author, max_participants=2)
    await database_sync_to_async(join)(room, viewer)
    socket, _ = await enter(room.pk, viewer)
    await socket.disconnect()


# --- room_state and user_joined -----------------------------------------------------------------


async def test_room_state_is_the_first_frame_with_room_participants_and_state(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    guest, state = await enter(room.pk, viewer)
    assert set(state) == {"type", "you", "room", "participants", "state", "history"}
    assert state["room"]["id"] == room.pk
    assert state["room"]["owner"]["username"] == "alice"
    assert "email" not in state["room"]["owner"]
    assert state["participants"] == [
        {"user_id": author.pk, "username": "alice", "is_host": True},
        {"user_id": viewer.pk, "username": "victor", "is_host": False},
    ]
    assert set(state["state"]) == {"position", "is_playing", "rate", "server_time", "seq"}
    assert state["state"]["is_playing"] is False
    assert state["history"] == []
    await host.disconnect()
    await guest.disconnect()


async def test_room_state_history_holds_the_last_50_messages_oldest_first(author, viewer):
    room = await database_sync_to_async(make_room)(author)

    def chat_55():
        start = time.time() - 600  # spread over ten minutes, clear of the flood guard
        for n in range(55):
            services.chat_post(
                room_id=room.pk, user=author, message=f"message {n}", now=start + n * 2
            )

    await database_sync_to_async(chat_55)()
    socket, state = await enter(room.pk, viewer)
    texts = [item["message"] for item in state["history"]]
    assert texts == [f"message {n}" for n in range(5, 55)]
    first = state["history"][0]
    assert set(first) == {"message_id", "user_id", "username", "message", "timestamp"}
    assert first["username"] == "alice"
    await socket.disconnect()


async def test_others_hear_user_joined_and_the_newcomer_does_not(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    guest, _ = await enter(room.pk, viewer)
    joined = await host.receive_json_from()
    assert joined == {
        "type": "user_joined",
        "user_id": viewer.pk,
        "username": "victor",
        "participants_count": 2,
    }
    assert await guest.receive_nothing()
    await host.disconnect()
    await guest.disconnect()


async def test_second_tab_of_the_same_user_does_not_announce_a_second_join(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    first_tab, _ = await enter(room.pk, viewer)
    assert (await host.receive_json_from())["type"] == "user_joined"
    second_tab, _ = await enter(room.pk, viewer)
    assert await host.receive_nothing()
    await second_tab.disconnect()
    assert await host.receive_nothing()  # one tab is still open: still here
    await first_tab.disconnect()
    left = await host.receive_json_from()
    assert left["type"] == "user_left" and left["user_id"] == viewer.pk
    await host.disconnect()


async def test_path_without_trailing_slash_also_connects(author):
    room = await database_sync_to_async(make_room)(author)
    headers = await database_sync_to_async(headers_for)(author)
    socket = communicator(room.pk, headers, path=f"/ws/rooms/{room.pk}")
    connected, _ = await socket.connect()
    assert connected
    assert (await socket.receive_json_from())["type"] == "room_state"
    await socket.disconnect()
