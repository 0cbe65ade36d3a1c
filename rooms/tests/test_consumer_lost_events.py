"""The channel layer may drop a message (Redis pub/sub delivers at most once): the periodic
tick, which reads the database, closes the sockets that missed their room's end."""

from channels.db import database_sync_to_async

from rooms import events, services
from rooms.tests.test_consumer_support import CONSUMER_TESTS, close_code, enter, make_room

pytestmark = CONSUMER_TESTS


def lose(monkeypatch, name: str) -> None:
    """The event is never delivered, as if the layer had dropped it."""
    monkeypatch.setattr(events, name, lambda *args, **kwargs: None)


async def test_socket_that_missed_room_closed_is_closed_4004_by_the_tick(
    author, viewer, settings, monkeypatch
):
    settings.ROOM_SYNC_INTERVAL = 0.1
    room = await database_sync_to_async(make_room)(author)
    guest, _ = await enter(room.pk, viewer)
    lose(monkeypatch, "room_closed")
    await database_sync_to_async(services.room_close)(room_id=room.pk, reason="moderator")
    assert await close_code(guest, timeout=2) == 4004
    await guest.disconnect()


async def test_socket_that_missed_its_kick_is_closed_4003_by_the_tick(
    author, viewer, settings, monkeypatch
):
    settings.ROOM_SYNC_INTERVAL = 0.1
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    guest, _ = await enter(room.pk, viewer)
    lose(monkeypatch, "user_kicked")
    await database_sync_to_async(services.room_kick)(
        room_id=room.pk, actor=author, user_id=viewer.pk
    )
    assert await close_code(guest, timeout=2) == 4003
    await guest.disconnect()
    await host.disconnect()


async def test_delivered_room_closed_wins_over_the_tick(author, viewer, settings):
    settings.ROOM_SYNC_INTERVAL = 0.1
    room = await database_sync_to_async(make_room)(author)
    guest, _ = await enter(room.pk, viewer)
    await database_sync_to_async(services.room_close)(room_id=room.pk, reason="moderator")
    assert await guest.receive_json_from() == {"type": "room_closed", "reason": "moderator"}
    assert await close_code(guest) == 4000
    await guest.disconnect()


async def test_an_event_for_a_socket_its_client_just_closed_is_dropped_quietly(author, viewer):
    """daphne refuses a frame for a socket whose client has closed (autobahn's Disconnected);
    a busy room always has events queued for someone who just left, and that is no error."""
    from autobahn.exception import Disconnected

    from rooms.consumers import RoomConsumer

    async def closed_protocol(message):
        raise Disconnected("Attempt to send on a closed protocol")

    consumer = RoomConsumer()
    consumer.base_send = closed_protocol
    consumer.finished = False
    consumer.channel_name = "specific.test"
    consumer.user = viewer
    await consumer.room_event({"type": "room.event", "text": '{"type": "typing"}'})
    assert consumer.finished
