"""A controller's next control is stored on the event loop's own database connection
(videohost.loop_database), and whatever that connection cannot settle takes Django's way."""

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.db.models import F

from rooms import consumers, services
from rooms.models import Room
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    disconnect_all,
    host_and_guest,
    send,
)
from videohost import loop_database
from videohost.loop_database import loop_connection
from videohost.testing_servers import free_port

pytestmark = [
    *CONSUMER_TESTS,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="the loop's connection is PostgreSQL's (CI's PostgreSQL run has it)",
    ),
]


@pytest.fixture
def djangos_way(monkeypatch):
    """The controls that went to Django's way (a thread and the pool), in order."""
    taken = []
    through_thread = consumers.playback_control

    async def counted(**control):
        taken.append(control["action"])
        return await through_thread(**control)

    monkeypatch.setattr(consumers, "playback_control", counted)
    return taken


async def seek(host, guest, position: float) -> dict:
    await send(host, {"type": "seek", "position": position})
    event = await guest.receive_json_from()
    assert event["type"] == "seek_event", event
    return event


async def after_a_first_seek(author, viewer):
    """A room whose host has seeked to 10 s once (the process now remembers their facts), the
    loop's connection up: (room, host, guest, the guest's first seek_event)."""
    room, host, guest = await host_and_guest(author, viewer)
    first = await seek(host, guest, 10.0)
    assert await loop_connection().ready()
    return room, host, guest, first


async def position_stored(room: Room) -> float:
    return (await Room.objects.aget(pk=room.pk)).current_position


async def test_a_hosts_second_seek_is_stored_on_the_loops_connection(author, viewer, djangos_way):
    room, host, guest, first = await after_a_first_seek(author, viewer)
    second = await seek(host, guest, 20.0)
    third = await seek(host, guest, 30.0)
    assert djangos_way == ["seek"]  # the first only: nothing remembered yet
    assert [second["seq"], third["seq"]] == [first["seq"] + 1, first["seq"] + 2]
    assert await position_stored(room) == 30.0
    await disconnect_all(host, guest)


async def test_a_seek_whose_remembered_facts_went_stale_is_read_afresh(author, viewer, djangos_way):
    room, host, guest, first = await after_a_first_seek(author, viewer)
    # Another process's control, unseen by this one.
    await Room.objects.filter(pk=room.pk).aupdate(seq=F("seq") + 1)
    second = await seek(host, guest, 20.0)
    third = await seek(host, guest, 30.0)
    assert djangos_way == ["seek", "seek"]  # the stale store changed nothing; the re-read
    assert [second["seq"], third["seq"]] == [first["seq"] + 2, first["seq"] + 3]
    assert await position_stored(room) == 30.0
    await disconnect_all(host, guest)


async def test_a_seek_the_remembered_facts_refuse_gets_djangos_answer(author, viewer, djangos_way):
    room, host, guest, _ = await after_a_first_seek(author, viewer)
    await send(host, {"type": "seek", "position": 10_000.0})
    error = await host.receive_json_from()
    assert error["type"] == "error" and error["code"] == "BAD_REQUEST", error
    assert djangos_way == ["seek", "seek"]
    assert await guest.receive_nothing()
    assert await position_stored(room) == 10.0
    await disconnect_all(host, guest)


async def test_a_seek_on_a_broken_loop_connection_is_stored_the_other_way_and_it_reconnects(
    author, viewer, djangos_way
):
    room, host, guest, _ = await after_a_first_seek(author, viewer)
    store = loop_connection()
    broken = store.backend_pid
    await database_sync_to_async(_terminate)(broken)
    second = await seek(host, guest, 20.0)
    assert djangos_way == ["seek", "seek"]
    assert second["position"] == 20.0 and await position_stored(room) == 20.0
    assert await store.ready()
    assert store.backend_pid not in (None, broken)
    await seek(host, guest, 30.0)
    assert djangos_way == ["seek", "seek"]
    assert await position_stored(room) == 30.0
    await disconnect_all(host, guest)


async def test_while_the_loop_connection_cannot_open_every_control_takes_djangos_way(
    author, viewer, djangos_way, monkeypatch
):
    unreachable = _Unreachable()
    monkeypatch.setattr(loop_database, "django_connection", unreachable)
    room, host, guest = await host_and_guest(author, viewer)
    for position in (10.0, 20.0, 30.0):
        await seek(host, guest, position)
    store = loop_connection()
    assert not await store.ready()
    assert unreachable.attempts == 1  # it failed, and no other is made within a second
    assert djangos_way == ["seek", "seek", "seek"]
    assert await position_stored(room) == 30.0
    await disconnect_all(host, guest)


async def test_with_controls_in_the_loop_turned_off_every_control_takes_djangos_way(
    author, viewer, djangos_way, settings
):
    settings.ROOM_CONTROLS_IN_LOOP = False
    room, host, guest = await host_and_guest(author, viewer)
    for position in (10.0, 20.0, 30.0):
        await seek(host, guest, position)
    assert loop_connection() is None
    assert djangos_way == ["seek", "seek", "seek"]
    assert await position_stored(room) == 30.0
    await disconnect_all(host, guest)


async def test_nothing_remembered_or_no_user_is_left_to_djangos_way(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    assert await loop_connection().ready()
    assert (
        await services.playback_control_remembered(
            room_id=room.pk, user=author, action="seek", position=5.0
        )
        is None
    )
    await disconnect_all(host, guest)


def _terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s, 5000)", [pid])
        assert cursor.fetchone() == (True,)


class _Unreachable:
    """Django's connection settings, but for a port nothing listens on."""

    vendor = "postgresql"
    attempts = 0

    def get_connection_params(self) -> dict:
        self.attempts += 1
        return {**connection.get_connection_params(), "port": free_port()}
