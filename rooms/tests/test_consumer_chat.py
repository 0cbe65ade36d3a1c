"""Chat over the socket: stored then acknowledged, length rules, slow mode, flood guard, typing."""

import pytest

from rooms.models import ChatMessage
from rooms.tests.test_consumer_support import CONSUMER_TESTS, host_and_guest, send

pytestmark = CONSUMER_TESTS


async def test_chat_message_reaches_everyone_and_acknowledges_the_sender(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(
        guest, {"type": "chat_message", "message": "  hello <b>all</b>  ", "client_id": "c1"}
    )
    ack = await guest.receive_json_from()
    seen = await host.receive_json_from()
    assert ack == seen
    assert ack["type"] == "chat_message_event"
    assert ack["message"] == "hello <b>all</b>"  # stripped, stored and relayed as plain text
    assert ack["user_id"] == viewer.pk and ack["username"] == "victor"
    assert ack["client_id"] == "c1"
    assert ack["timestamp"]
    await host.disconnect()
    await guest.disconnect()


async def test_chat_message_is_stored_when_its_ack_arrives(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(guest, {"type": "chat_message", "message": "kept", "client_id": "k"})
    ack = await guest.receive_json_from()
    saved = await ChatMessage.objects.aget(pk=ack["message_id"])
    assert (saved.room_id, saved.user_id, saved.message, saved.client_id) == (
        room.pk,
        viewer.pk,
        "kept",
        "k",
    )
    await host.disconnect()
    await guest.disconnect()


@pytest.mark.parametrize("message", ["", "   \n\t ", "x" * 501])
async def test_empty_or_too_long_message_is_refused_and_not_stored(author, viewer, message):
    room, host, guest = await host_and_guest(author, viewer)
    await send(guest, {"type": "chat_message", "message": message})
    error = await guest.receive_json_from()
    assert error["type"] == "error" and error["code"] == "BAD_REQUEST"
    assert error["ref"] == "chat_message"
    assert await host.receive_nothing()
    assert await ChatMessage.objects.filter(room_id=room.pk).acount() == 0
    await host.disconnect()
    await guest.disconnect()


async def test_message_of_exactly_500_characters_is_accepted(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(guest, {"type": "chat_message", "message": "y" * 500})
    assert len((await guest.receive_json_from())["message"]) == 500
    await host.disconnect()
    await guest.disconnect()


@pytest.mark.parametrize(
    "frame",
    [
        {"type": "chat_message"},
        {"type": "chat_message", "message": 42},
        {"type": "chat_message", "message": ["hi"]},
        {"type": "chat_message", "message": "hi", "client_id": 7},
        {"type": "chat_message", "message": "hi", "client_id": "z" * 65},
    ],
)
async def test_chat_message_with_wrong_field_types_is_a_bad_request(author, viewer, frame):
    room, host, guest = await host_and_guest(author, viewer)
    await send(guest, frame)
    error = await guest.receive_json_from()
    assert error["code"] == "BAD_REQUEST" and error["ref"] == "chat_message"
    assert await host.receive_nothing()
    await host.disconnect()
    await guest.disconnect()


async def test_slow_mode_refuses_a_guests_second_message_with_retry_after(author, viewer):
    room, host, guest = await host_and_guest(author, viewer, message_delay=30)
    await send(guest, {"type": "chat_message", "message": "first"})
    assert (await guest.receive_json_from())["type"] == "chat_message_event"
    assert (await host.receive_json_from())["type"] == "chat_message_event"
    await send(guest, {"type": "chat_message", "message": "second"})
    error = await guest.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == "RATE_LIMIT_EXCEEDED"
    assert 1 <= error["retry_after"] <= 30
    assert error["ref"] == "chat_message"
    assert await host.receive_nothing()
    await host.disconnect()
    await guest.disconnect()


async def test_host_is_exempt_from_slow_mode(author, viewer):
    room, host, guest = await host_and_guest(author, viewer, message_delay=30)
    for text in ("one", "two"):
        await send(host, {"type": "chat_message", "message": text})
        assert (await host.receive_json_from())["message"] == text
        assert (await guest.receive_json_from())["message"] == text
    await host.disconnect()
    await guest.disconnect()


async def test_flood_guard_refuses_a_sixth_message_within_five_seconds(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    for n in range(5):
        await send(host, {"type": "chat_message", "message": f"spam {n}"})
        assert (await host.receive_json_from())["type"] == "chat_message_event"
        assert (await guest.receive_json_from())["type"] == "chat_message_event"
    await send(host, {"type": "chat_message", "message": "spam 5"})
    error = await host.receive_json_from()
    assert error["code"] == "RATE_LIMIT_EXCEEDED" and error["retry_after"] >= 1
    assert await guest.receive_nothing()
    assert await ChatMessage.objects.filter(room_id=room.pk).acount() == 5
    await host.disconnect()
    await guest.disconnect()


async def test_typing_reaches_the_others_only_and_is_throttled(author, viewer):
    room, host, guest = await host_and_guest(author, viewer)
    await send(guest, {"type": "typing"})
    assert await host.receive_json_from() == {
        "type": "typing",
        "user_id": viewer.pk,
        "username": "victor",
    }
    assert await guest.receive_nothing()
    await send(guest, {"type": "typing"})  # within the second: dropped
    assert await host.receive_nothing()
    await host.disconnect()
    await guest.disconnect()
