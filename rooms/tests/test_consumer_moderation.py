"""Kicks, closes, leaves and setting changes reaching the sockets of a room."""

from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Room
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    close_code,
    enter,
    host_and_guest,
    send,
)

pytestmark = CONSUMER_TESTS


async def api(client_for, user, method: str, path: str, *args, **kwargs):
    """A REST call as `user`, made in a thread like any sync code (token creation included)."""

    def call():
        return getattr(client_for(user), method)(path, *args, **kwargs)

    return await database_sync_to_async(call)()


async def test_kick_through_the_api_disconnects_the_kicked_users_socket_with_4003(
    author, viewer, stranger, client_for
):
    room, host, guest = await host_and_guest(author, viewer)
    third, _ = await enter(room.pk, stranger)
    await host.receive_json_from()  # stranger joined
    await guest.receive_json_from()
    response = await api(client_for, author, "post", f"/api/rooms/{room.pk}/kick/{viewer.pk}")
    assert response.status_code == 200, response.content
    assert await guest.receive_json_from() == {"type": "kicked", "by_user_id": author.pk}
    assert await close_code(guest) == 4003
    for socket in (host, third):
        left = await socket.receive_json_from()
        assert left == {
            "type": "user_left",
            "user_id": viewer.pk,
            "username": "victor",
            "participants_count": 2,
        }
    await guest.disconnect()
    assert await host.receive_nothing()  # no second user_left when the socket goes
    for socket in (host, third):
        await socket.disconnect()


async def test_kick_reaches_every_tab_of_the_kicked_user(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    second_tab, _ = await enter(room.pk, viewer)
    await database_sync_to_async(services.room_kick)(
        room_id=room.pk, actor=author, user_id=viewer.pk
    )
    for socket in (guest, second_tab):
        assert (await socket.receive_json_from())["type"] == "kicked"
        assert await close_code(socket) == 4003
    for socket in (guest, second_tab, host):
        await socket.disconnect()


async def test_guest_cannot_kick_through_the_api_and_nobody_is_disconnected(
    author, viewer, stranger, client_for
):
    room, host, guest = await host_and_guest(author, viewer)
    await database_sync_to_async(services.room_join)(room_id=room.pk, user=stranger)
    response = await api(client_for, viewer, "post", f"/api/rooms/{room.pk}/kick/{author.pk}")
    assert response.status_code == 403
    assert await host.receive_nothing()
    assert await guest.receive_nothing()
    await host.disconnect()
    await guest.disconnect()


async def test_moderator_closing_the_room_closes_every_socket_with_4000(author, viewer, moderator):
    room, host, guest = await host_and_guest(author, viewer)
    await database_sync_to_async(services.room_close)(
        room_id=room.pk, reason="moderator", by=moderator
    )
    for socket in (host, guest):
        assert await socket.receive_json_from() == {"type": "room_closed", "reason": "moderator"}
        assert await close_code(socket) == 4000
    await host.disconnect()
    await guest.disconnect()


async def test_host_leaving_closes_the_room_for_everyone(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(host, {"type": "leave"})
    for socket in (host, guest):
        assert await socket.receive_json_from() == {"type": "room_closed", "reason": "host_left"}
        assert await close_code(socket) == 4000
    closed = await Room.objects.aget(pk=room.pk)
    assert closed.is_active is False and closed.close_reason == "host_left"
    await host.disconnect()
    await guest.disconnect()


async def test_guest_leaving_tells_the_others_and_closes_only_their_socket(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(guest, {"type": "leave"})
    assert await close_code(guest) == 1000
    assert await host.receive_json_from() == {
        "type": "user_left",
        "user_id": viewer.pk,
        "username": "victor",
        "participants_count": 1,
    }
    await guest.disconnect()
    assert await host.receive_nothing()
    assert (await Room.objects.aget(pk=room.pk)).is_active
    await host.disconnect()


async def test_leaving_through_the_api_closes_the_users_open_socket(author, viewer, client_for):
    room, host, guest = await host_and_guest(author, viewer)
    response = await api(client_for, viewer, "post", f"/api/rooms/{room.pk}/leave")
    assert response.status_code == 200, response.content
    assert await close_code(guest) == 1000
    left = await host.receive_json_from()
    assert left["type"] == "user_left" and left["user_id"] == viewer.pk
    await guest.disconnect()
    await host.disconnect()


async def test_settings_changed_through_the_api_reach_every_socket(author, viewer, client_for):
    room, host, guest = await host_and_guest(author, viewer)
    response = await api(
        client_for,
        author,
        "patch",
        f"/api/rooms/{room.pk}",
        {"guests_can_control": True, "message_delay": 10},
        format="json",
    )
    assert response.status_code == 200, response.content
    for socket in (host, guest):
        assert await socket.receive_json_from() == {
            "type": "room_updated",
            "guests_can_control": True,
            "message_delay": 10,
        }
    await send(guest, {"type": "pause", "position": 2})  # the new right applies at once
    assert (await host.receive_json_from())["type"] == "pause_event"
    await host.disconnect()
    await guest.disconnect()
