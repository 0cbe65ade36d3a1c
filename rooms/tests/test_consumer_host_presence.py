"""The host's socket dropping: playback pauses, and the room closes unless the host is back
within ROOM_HOST_GRACE_SECONDS."""

import asyncio

from channels.db import database_sync_to_async

from rooms import services
from rooms.models import Room
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    close_code,
    enter,
    frames_until,
    make_room,
    send,
)

pytestmark = CONSUMER_TESTS


async def playing_room(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    guest, _ = await enter(room.pk, viewer)
    assert (await host.receive_json_from())["type"] == "user_joined"
    await send(host, {"type": "play", "position": 4})
    assert (await guest.receive_json_from())["type"] == "play_event"
    return room, host, guest


async def test_host_dropping_pauses_playback_for_the_guests(author, viewer):
    room, host, guest = await playing_room(author, viewer)
    await host.disconnect()
    paused = await guest.receive_json_from()
    assert paused["type"] == "pause_event"
    assert paused["is_playing"] is False and paused["by_user_id"] == author.pk
    left = await guest.receive_json_from()
    assert left["type"] == "user_left" and left["user_id"] == author.pk
    stored = await Room.objects.aget(pk=room.pk)
    assert stored.is_active and not stored.is_playing and stored.host_disconnected_at is not None
    await guest.disconnect()


async def test_room_closes_with_host_timeout_when_the_grace_period_ends(author, viewer, settings):
    settings.ROOM_HOST_GRACE_SECONDS = 0.1
    room, host, guest = await playing_room(author, viewer)
    await host.disconnect()
    frames = await frames_until(guest, "room_closed", timeout=2)
    assert frames[-1] == {"type": "room_closed", "reason": "host_timeout"}
    assert await close_code(guest) == 4000
    stored = await Room.objects.aget(pk=room.pk)
    assert not stored.is_active and stored.close_reason == "host_timeout"
    await guest.disconnect()


async def test_host_back_within_the_grace_period_keeps_the_room(author, viewer, settings):
    settings.ROOM_HOST_GRACE_SECONDS = 0.3
    room, host, guest = await playing_room(author, viewer)
    await host.disconnect()
    await frames_until(guest, "user_left")
    host, state = await enter(room.pk, author)
    assert state["state"]["is_playing"] is False  # paused while away; the host resumes
    assert (await guest.receive_json_from())["type"] == "user_joined"
    await asyncio.sleep(0.5)  # past the deadline: the timer fires and finds the host back
    assert await guest.receive_nothing(0.1)
    assert await host.receive_nothing(0.1)
    stored = await Room.objects.aget(pk=room.pk)
    assert stored.is_active and stored.host_disconnected_at is None
    await send(host, {"type": "play", "position": state["state"]["position"]})
    assert (await guest.receive_json_from())["type"] == "play_event"
    await host.disconnect()
    await guest.disconnect()


async def test_second_tab_of_the_host_keeps_the_room_playing(author, viewer):
    room, host, guest = await playing_room(author, viewer)
    second_tab, _ = await enter(room.pk, author)
    await host.disconnect()
    assert await guest.receive_nothing()
    assert (await Room.objects.aget(pk=room.pk)).is_playing
    await second_tab.disconnect()
    await guest.disconnect()


async def test_a_lost_grace_timer_is_made_up_for_by_the_guests_periodic_tick(
    author, viewer, settings
):
    """A server process that dies takes its grace timers with it: here the host's socket
    "was" on such a process (the disconnect is recorded without a timer), and the guest's
    socket, served elsewhere, notices the passed deadline on its next tick."""
    settings.ROOM_HOST_GRACE_SECONDS = 0
    settings.ROOM_SYNC_INTERVAL = 0.1
    room = await database_sync_to_async(make_room)(author)

    def host_socket_on_a_dead_process():
        services.participant_connected(room_id=room.pk, user=author)
        services.participant_disconnected(room_id=room.pk, user=author)

    # The guest is in before the host's process dies (a join after the deadline would find
    # the room closed already: services.room_join expires it first).
    guest, _ = await enter(room.pk, viewer)
    await database_sync_to_async(host_socket_on_a_dead_process)()
    frames = await frames_until(guest, "room_closed", timeout=2)
    assert frames[-1]["reason"] == "host_timeout"
    assert await close_code(guest) == 4000
    await guest.disconnect()
