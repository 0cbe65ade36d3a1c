"""Frames the server cannot use get an error frame (or 1009 when oversize), never a crash."""

import json

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    close_code,
    enter,
    make_room,
    send,
    send_raw,
)

pytestmark = CONSUMER_TESTS


async def still_answers(socket) -> None:
    await send(socket, {"type": "ping", "t0": 1})
    assert (await socket.receive_json_from())["type"] == "pong"


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("{not json", None),
        ("[1, 2, 3]", None),
        ('"just a string"', None),
        ("null", None),
        ("{}", None),
        ('{"type": 5}', None),
        ('{"type": "dance"}', "dance"),
        ('{"type": "auth", "token": "again"}', "auth"),
        ('{"type": "ping"}', "ping"),
        ('{"type": "ping", "t0": NaN}', "ping"),
    ],
)
async def test_unusable_frame_gets_a_bad_request_error_and_the_socket_stays_up(author, text, ref):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)
    await send_raw(socket, text)
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == "BAD_REQUEST", error
    assert error["ref"] == ref
    assert isinstance(error["message"], str) and error["message"]
    await still_answers(socket)
    await socket.disconnect()


async def test_binary_frame_gets_a_bad_request_error(author):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)
    await socket.send_to(bytes_data=b"\x00\x01")
    assert (await socket.receive_json_from())["code"] == "BAD_REQUEST"
    await still_answers(socket)
    await socket.disconnect()


async def test_frame_over_64_kib_closes_the_socket_with_1009(author, viewer):
    room = await database_sync_to_async(make_room)(author)
    host, _ = await enter(room.pk, author)
    guest, _ = await enter(room.pk, viewer)
    await host.receive_json_from()  # user_joined
    await send(guest, {"type": "chat_message", "message": "x" * (64 * 1024)})
    assert await close_code(guest) == 1009
    assert await host.receive_nothing()  # the socket counts until it has really gone
    await guest.disconnect()
    assert (await host.receive_json_from())["type"] == "user_left"
    await host.disconnect()


async def test_frame_over_the_limit_in_utf8_bytes_closes_with_1009(author):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)
    # 20,000 characters of 4 bytes each: under 64 Ki characters, over 64 KiB.
    await send_raw(socket, json.dumps({"type": "typing", "pad": "😀" * 20_000}, ensure_ascii=False))
    assert await close_code(socket) == 1009
    await socket.disconnect()


async def test_frame_just_under_the_limit_is_handled(author):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)
    frame = {"type": "ping", "t0": 1, "pad": ""}
    frame["pad"] = "p" * (64 * 1024 - len(json.dumps(frame)))
    await send_raw(socket, json.dumps(frame))
    assert (await socket.receive_json_from())["type"] == "pong"
    await socket.disconnect()


async def test_unexpected_failure_answers_internal_server_error_and_keeps_the_socket(
    author, monkeypatch, caplog
):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)

    def broken(**kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "chat_post", broken)
    await send(socket, {"type": "chat_message", "message": "hi"})
    error = await socket.receive_json_from()
    assert error == {
        "type": "error",
        "code": "INTERNAL_SERVER_ERROR",
        "message": "An internal error occurred.",
        "ref": "chat_message",
    }
    assert "disk on fire" not in json.dumps(error)
    assert any("chat_message" in record.getMessage() for record in caplog.records)
    await still_answers(socket)
    await socket.disconnect()
