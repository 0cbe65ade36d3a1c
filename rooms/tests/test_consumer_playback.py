"""Playback over the socket: control rights, events to the others, seq, bounds, sync and ping."""

import time

import pytest
from channels.db import database_sync_to_async

from rooms.models import Room
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    DURATION,
    enter,
    frames_until,
    host_and_guest,
    make_room,
    send,
    send_raw,
)

pytestmark = CONSUMER_TESTS


async def stored(room: Room) -> Room:
    return await Room.objects.aget(pk=room.pk)


async def test_host_seek_reaches_the_guest_and_is_not_echoed_to_the_host(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(host, {"type": "seek", "position": 42.5})
    event = await guest.receive_json_from()
    assert event["type"] == "seek_event"
    assert event["position"] == 42.5
    assert event["is_playing"] is False
    assert event["rate"] == 1.0
    assert event["by_user_id"] == author.pk
    assert abs(event["server_time"] - time.time()) < 5
    assert await host.receive_nothing()
    assert (await stored(room)).current_position == 42.5
    await host.disconnect()
    await guest.disconnect()


async def test_play_pause_and_rate_events_carry_a_growing_seq(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    start = (await stored(room)).seq
    await send(host, {"type": "play", "position": 10})
    await send(host, {"type": "rate", "rate": 1.5})
    await send(host, {"type": "pause", "position": 12})
    play, rate, pause = [await guest.receive_json_from() for _ in range(3)]
    assert [play["type"], rate["type"], pause["type"]] == [
        "play_event",
        "rate_event",
        "pause_event",
    ]
    assert [play["seq"], rate["seq"], pause["seq"]] == [start + 1, start + 2, start + 3]
    assert play["is_playing"] is True and rate["rate"] == 1.5 and pause["is_playing"] is False
    assert pause["position"] == 12
    await host.disconnect()
    await guest.disconnect()


async def test_guest_control_is_refused_with_forbidden_and_changes_nothing(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    before = await stored(room)
    await send(guest, {"type": "seek", "position": 30})
    error = await guest.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == "FORBIDDEN"
    assert error["ref"] == "seek"
    assert await host.receive_nothing()
    after = await stored(room)
    assert (after.seq, after.current_position) == (before.seq, before.current_position)
    await host.disconnect()
    await guest.disconnect()


async def test_guest_may_control_when_guests_can_control(author, viewer):
    room, host, guest = await host_and_guest(author, viewer, guests_can_control=True)
    await send(guest, {"type": "play", "position": 3})
    event = await host.receive_json_from()
    assert event["type"] == "play_event" and event["by_user_id"] == viewer.pk
    await host.disconnect()
    await guest.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        '{"type": "seek", "position": -1}',
        f'{{"type": "seek", "position": {DURATION + 1}}}',
        '{"type": "seek", "position": "abc"}',
        '{"type": "seek", "position": NaN}',
        '{"type": "seek", "position": Infinity}',
        '{"type": "seek", "position": 1e999}',
        '{"type": "seek", "position": true}',
        '{"type": "seek", "position": [1]}',
        '{"type": "seek"}',
        '{"type": "play", "position": "10"}',
        '{"type": "rate", "rate": 10}',
        '{"type": "rate", "rate": 0.1}',
        '{"type": "rate", "rate": "fast"}',
        '{"type": "rate"}',
    ],
)
async def test_control_with_a_bad_position_or_rate_is_a_bad_request(author, viewer, frame):
    room, host, guest = await host_and_guest(author, viewer)
    before = await stored(room)
    await send_raw(host, frame)
    error = await host.receive_json_from()
    assert error["type"] == "error" and error["code"] == "BAD_REQUEST", error
    assert error["ref"] in ("seek", "play", "rate")
    assert await guest.receive_nothing()
    assert (await stored(room)).seq == before.seq
    await host.disconnect()
    await guest.disconnect()


async def test_seek_to_the_very_end_is_allowed(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(host, {"type": "seek", "position": DURATION})
    assert (await guest.receive_json_from())["position"] == DURATION
    await host.disconnect()
    await guest.disconnect()


async def test_sync_request_answers_the_asker_only_with_state_sync(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(host, {"type": "play", "position": 20})
    played = await guest.receive_json_from()
    await send(guest, {"type": "sync_request"})
    sync = await guest.receive_json_from()
    assert sync["type"] == "state_sync"
    assert set(sync) == {"type", "position", "is_playing", "rate", "server_time", "seq"}
    assert sync["seq"] == played["seq"]
    assert sync["is_playing"] is True
    assert sync["position"] >= 20
    assert await host.receive_nothing()
    await host.disconnect()
    await guest.disconnect()


async def test_state_sync_arrives_periodically_while_playing(author, viewer, settings):
    settings.ROOM_SYNC_INTERVAL = 0.2
    room, host, guest = await host_and_guest(author, viewer)
    await send(host, {"type": "play", "position": 5})
    # A tick may read the new state before the play_event arrives: order is not promised.
    frames = await frames_until(guest, "play_event")
    syncs = [frame for frame in frames if frame["type"] == "state_sync"]
    while len(syncs) < 2:
        syncs.append(await guest.receive_json_from(timeout=1))
    first, second = syncs[:2]
    assert first["type"] == second["type"] == "state_sync"
    assert second["server_time"] > first["server_time"]
    assert second["position"] > first["position"]  # advancing while playing
    assert (await host.receive_json_from(timeout=1))["type"] == "state_sync"
    await host.disconnect()
    await guest.disconnect()


async def test_no_periodic_state_sync_while_paused(author, viewer, settings):
    settings.ROOM_SYNC_INTERVAL = 0.1
    room, host, guest = await host_and_guest(author, viewer)
    assert await guest.receive_nothing(timeout=0.4)
    await host.disconnect()
    await guest.disconnect()


async def test_ping_is_answered_with_pong_carrying_t0_and_server_time(author):
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    await send(host, {"type": "ping", "t0": 1234.5})
    pong = await host.receive_json_from()
    assert pong["type"] == "pong" and pong["t0"] == 1234.5
    assert abs(pong["server_time"] - time.time()) < 5
    await send(host, {"type": "ping", "t0": "soon"})
    assert (await host.receive_json_from())["code"] == "BAD_REQUEST"
    await host.disconnect()


async def test_every_socket_but_the_senders_own_gets_the_event(author, viewer):
    """A host with two tabs: the other tab must follow what the first one did."""
    room, host, guest = await host_and_guest(author, viewer)
    second_tab, _ = await enter(room.pk, author)
    await send(host, {"type": "pause", "position": 1})
    assert (await second_tab.receive_json_from())["type"] == "pause_event"
    assert (await frames_until(guest, "pause_event"))[-1]["by_user_id"] == author.pk
    assert await host.receive_nothing()
    for socket in (second_tab, host, guest):
        await socket.disconnect()
