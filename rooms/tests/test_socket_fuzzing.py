"""Random and malformed frames against the real RoomConsumer: never a crash, every bad frame
answered per ROOM_PROTOCOL.md, the socket usable afterwards and the room's state intact.

The generator is seeded (VIDEOHOST_FUZZ_SEED and SEEDS below), so a failure replays exactly;
every assertion names the frame that broke it. After each fuzzed frame a `ping` with a fresh
`t0` is sent as a fence: whatever arrives before its `pong` is the answer to that frame, so a
frame that must be silent (an accepted control, `typing`) is checked to be silent too.

An oracle (`expected`) says from the frame's content alone what the protocol requires:
an `error` with a given code and `ref`, a `pong`, a `state_sync`, a chat acknowledgement (or
the flood guard's refusal), or nothing.
"""

import json
import logging
import math
import os
import random

import pytest
from channels.db import database_sync_to_async
from django.conf import settings

from rooms.models import ChatMessage, Room
from rooms.services import FLOOD_MESSAGES, MAX_RATE, MIN_RATE
from rooms.tests.test_consumer_support import (
    CONSUMER_TESTS,
    DURATION,
    close_code,
    enter,
    host_and_guest,
    make_room,
    open_socket,
    send,
)

pytestmark = CONSUMER_TESTS

SEED = int(os.environ.get("VIDEOHOST_FUZZ_SEED", "20260501"))
# The random campaign runs from this many seeds, SEED upwards (a test id names its seed). One
# seed let a bug through that 2 of 9 others found (a speed change past the video's end).
# VIDEOHOST_FUZZ_SEEDS=100 is a longer hunt; VIDEOHOST_FUZZ_SEED=<id's seed> …_SEEDS=1 replays.
SEEDS = range(SEED, SEED + int(os.environ.get("VIDEOHOST_FUZZ_SEEDS", "4")))
RANDOM_FRAMES = 1500
REPLY_TIMEOUT = 5
CONTROLS = ("play", "pause", "seek", "rate")
# Frames other sockets' actions cause; never an answer to the frame under test.
BROADCASTS = {
    "play_event",
    "pause_event",
    "seek_event",
    "rate_event",
    "typing",
    "user_joined",
    "user_left",
}
# Names a careless dispatcher might route a client's `type` to: the consumer's own methods and
# channel-layer handlers. All must be unknown frame types.
HOSTILE_TYPES = [
    "room.event",
    "room_event",
    "room.closed",
    "room_closed",
    "room.kicked",
    "room_kicked",
    "websocket.receive",
    "websocket.disconnect",
    "websocket_disconnect",
    "dispatch",
    "receive",
    "handlers",
    "on_ping",
    "send_json",
    "__init__",
    "__class__",
    "PING",
    " ping",
    "ping ",
    "ping\x00",
    "chat_message\u200b",
    "",
    "x" * 5000,
    "\ud83d",
    "play_event",
    "error",
    "room_state",
]
# Values that are not a finite number, and values that are not a string.
NOT_NUMBERS = [
    True,
    False,
    "",
    "1",
    "12.5",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e999",
    "0x1A",
    " 12 ",
    "١٢",
    [],
    [1],
    {},
    {"position": 1},
    float("nan"),
    float("inf"),
    float("-inf"),
    10**400,
    -(10**400),
]
NOT_STRINGS = [None, True, False, 0, 1, -1.5, 10**400, float("nan"), [], ["hi"], {}, {"x": "hi"}]
BAD_MESSAGES = [
    "",
    " \t\n\r ",
    "\u3000",
    "x" * 501,
    "😀" * 501,
    "hi\x00there",
    "\x00",
    "lone \ud800 surrogate",
    "\udfff",
    "reversed pair \udc00\ud800",
]
BAD_CLIENT_IDS = [
    "x" * 65,
    "😀" * 65,
    "id\x00",
    "\ud800",
    *[v for v in NOT_STRINGS if v is not None],
]


# --- The oracle ---------------------------------------------------------------------------------


def finite_number(value) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def storable(text: str) -> bool:
    """Text a database can hold: no NUL, no lone surrogate."""
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def error(ref, *codes) -> tuple:
    return ("error", ref, set(codes))


def expected(content, *, may_control: bool) -> tuple:
    """What the protocol requires in answer to `content` (already parsed, or None)."""
    if not isinstance(content, dict):
        return error(None, "BAD_REQUEST")
    kind = content.get("type")
    if not isinstance(kind, str):
        return error(None, "BAD_REQUEST")
    if kind == "ping":
        return ("pong",) if finite_number(content.get("t0")) else error(kind, "BAD_REQUEST")
    if kind == "sync_request":
        return ("state_sync",)
    if kind == "typing":
        return ("silent",)
    if kind in CONTROLS:
        field = "rate" if kind == "rate" else "position"
        value = content.get(field)
        if value is None:
            if kind in ("seek", "rate"):
                return error(kind, "BAD_REQUEST")
        elif not finite_number(value):
            return error(kind, "BAD_REQUEST")
        if not may_control:
            return error(kind, "FORBIDDEN")
        if value is not None:
            low, high = (MIN_RATE, MAX_RATE) if kind == "rate" else (0, DURATION)
            if not low <= float(value) <= high:
                return error(kind, "BAD_REQUEST")
        return ("control",)
    if kind == "chat_message":
        message, client_id = content.get("message"), content.get("client_id")
        if not isinstance(message, str):
            return error(kind, "BAD_REQUEST")
        if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
            return error(kind, "BAD_REQUEST")
        text = message.strip()
        if not text or len(text) > 500 or not storable(text):
            return error(kind, "BAD_REQUEST")
        if client_id is not None and not storable(client_id):
            return error(kind, "BAD_REQUEST")
        return ("chat",)
    # "auth" once authenticated, and every unknown type ("leave" is never generated).
    return error(kind, "BAD_REQUEST")


# --- The generator ------------------------------------------------------------------------------


def random_string(rng: random.Random) -> str:
    shape = rng.randrange(9)
    if shape == 0:
        return ""
    if shape == 1:
        return "".join(chr(rng.randrange(32, 127)) for _ in range(rng.randrange(1, 40)))
    if shape == 2:  # anywhere in Unicode, surrogates and non-characters included
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 20)))
    if shape == 3:
        return "".join(chr(rng.choice([0, 1, 8, 9, 10, 13, 27, 127])) for _ in range(5))
    if shape == 4:
        return rng.choice(
            [
                "<script>alert(1)</script>",
                '"><svg onload=alert(1)>',
                "javascript:alert(1)",
                "{{7*7}}",
                "'; DROP TABLE rooms_chatmessage; --",
                "\u202eevil\u202c",
                "e\u0301\u0301\u0301",
            ]
        )
    if shape == 5:
        return rng.choice(["x", "😀", "é", "\u200b"]) * rng.randrange(400, 8000)
    if shape == 6:
        return rng.choice(["NaN", "Infinity", "-0", "1e309", "0", "12.5", "true", "null"])
    if shape == 7:
        return "  " + "".join(chr(rng.randrange(0x20, 0x2FF)) for _ in range(rng.randrange(60)))
    return chr(rng.randrange(0xD800, 0xE000)) + "tail"


def random_number(rng: random.Random, low: float, high: float):
    shape = rng.randrange(8)
    if shape < 3:
        return rng.uniform(low, high)  # in range: accepted
    if shape == 3:
        return rng.choice([low, high, int(low), int(high)])
    if shape == 4:
        return rng.choice([-1e-9, -1, high + 1e-6, high * 10, 1e308, -1e308, 2**63, -(2**63)])
    if shape == 5:
        return rng.choice([float("nan"), float("inf"), float("-inf"), 10**400])
    if shape == 6:
        return rng.choice([-0.0, 0, 1, 5e-324])
    return rng.randrange(-(10**6), 10**6)


def random_json(rng: random.Random, depth: int = 0):
    shape = rng.randrange(8 if depth < 3 else 6)
    if shape == 0:
        return None
    if shape == 1:
        return rng.choice([True, False])
    if shape == 2:
        return random_number(rng, -1e6, 1e6)
    if shape in (3, 4, 5):
        return random_string(rng)
    if shape == 6:
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_string(rng)[:20]: random_json(rng, depth + 1) for _ in range(rng.randrange(4))}


def random_field(rng: random.Random, good, bad_pool):
    roll = rng.random()
    if roll < 0.45:
        return good()
    if roll < 0.8:
        return rng.choice(bad_pool)
    return random_json(rng)


def random_object(rng: random.Random) -> dict:
    roll = rng.random()
    if roll < 0.08:
        frame = {"typ": "ping"} if rng.random() < 0.5 else {}
    elif roll < 0.16:
        frame = {"type": random_json(rng)}
    elif roll < 0.28:
        frame = {"type": rng.choice(HOSTILE_TYPES + [random_string(rng)[:30]])}
    else:
        kind = rng.choice(
            [*CONTROLS, "ping", "ping", "sync_request", "typing", "auth"] + ["chat_message"] * 2
        )
        frame = {"type": kind}
        if kind == "rate":
            frame["rate"] = random_field(
                rng, lambda: random_number(rng, MIN_RATE, MAX_RATE), NOT_NUMBERS + [None]
            )
        elif kind in CONTROLS:
            if rng.random() < 0.85:
                frame["position"] = random_field(
                    rng, lambda: random_number(rng, 0, DURATION), NOT_NUMBERS + [None]
                )
        elif kind == "ping":
            frame["t0"] = random_field(
                rng, lambda: random_number(rng, 0, 2e12), NOT_NUMBERS + [None]
            )
        elif kind == "auth":
            frame["token"] = random_json(rng)
        elif kind == "chat_message":
            frame["message"] = random_field(
                rng, lambda: random_string(rng) or "hello", BAD_MESSAGES + NOT_STRINGS
            )
            if rng.random() < 0.5:
                frame["client_id"] = random_field(
                    rng, lambda: random_string(rng)[:64], BAD_CLIENT_IDS + [None]
                )
    for _ in range(rng.choice([0, 0, 0, 1, 3])):  # unknown extra fields are ignored
        frame.setdefault(random_string(rng)[:12] or "extra", random_json(rng))
    return frame


def random_garbage(rng: random.Random) -> str:
    """Text frames that are not a JSON object."""
    shape = rng.randrange(10)
    if shape == 0:
        return json.dumps({"type": "ping", "t0": 1})[: rng.randrange(1, 20)]  # truncated
    if shape == 1:
        return json.dumps(random_json(rng)) if rng.random() < 0.5 else "[]"
    if shape == 2:
        return rng.choice(["", " ", "\n", "null", "true", "0", "NaN", "-Infinity", '"x"'])
    if shape == 3:
        return "\ufeff" + json.dumps({"type": "ping", "t0": 1})  # a byte-order mark first
    if shape == 4:
        return "{'type': 'ping', 't0': 1}"  # Python, not JSON
    if shape == 5:
        return "[" * rng.randrange(1000, 60_000)  # nesting deeper than the parser recurses
    if shape == 6:
        return '{"a":' * rng.randrange(1000, 12_000)
    if shape == 7:
        return "".join(chr(rng.randrange(0x110000)) for _ in range(rng.randrange(1, 200)))
    if shape == 8:
        return '{"type": "ping", "t0": 1' + "," * rng.randrange(1, 5) + "}"
    return random_string(rng)


def random_frame(rng: random.Random) -> tuple[str | None, bytes | None]:
    """(text, bytes) of one frame, never over the size limit."""
    limit = settings.ROOM_MAX_FRAME_BYTES
    while True:
        roll = rng.random()
        if roll < 0.07:
            size = rng.choice([0, 1, 2, 100, 4096])
            data = (
                json.dumps({"type": "ping", "t0": 1}).encode()
                if rng.random() < 0.3
                else rng.randbytes(size)
            )
            if len(data) <= limit:
                return None, data
            continue
        text = random_garbage(rng) if roll < 0.25 else json.dumps(random_object(rng))
        if len(text.encode("utf-8", "surrogatepass")) <= limit:
            return text, None


def parsed(text: str | None):
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


# --- Driving a socket ---------------------------------------------------------------------------


class Fuzzer:
    """Sends frames through one socket and checks each answer against the oracle."""

    def __init__(self, socket, *, user, may_control: bool):
        self.socket, self.user, self.may_control = socket, user, may_control
        self.fence = 0
        self.controls = 0
        self.acks = 0
        self.heard: list[dict] = []  # broadcasts caused by others, in order

    async def answers(self) -> list[dict]:
        """Frames before the next fence's pong (broadcasts caused by others left out)."""
        self.fence += 1
        t0 = 1_000_000_000 + self.fence
        await send(self.socket, {"type": "ping", "t0": t0})
        seen = []
        while True:
            frame = await self.socket.receive_json_from(REPLY_TIMEOUT)
            if frame["type"] == "pong" and frame["t0"] == t0:
                return seen
            if not self.heard_from_others(frame):
                seen.append(frame)

    async def next_own_frame(self) -> dict:
        while True:
            frame = await self.socket.receive_json_from(REPLY_TIMEOUT)
            if not self.heard_from_others(frame):
                return frame

    def heard_from_others(self, frame: dict) -> bool:
        others = frame["type"] == "chat_message_event" and frame["user_id"] != self.user.pk
        if frame["type"] in BROADCASTS or others:
            self.heard.append(frame)
            return True
        return False

    async def drain(self) -> list[dict]:
        """Everything heard from others, the frames still queued included."""
        while not await self.socket.receive_nothing(0.2):
            self.heard.append(await self.socket.receive_json_from())
        return self.heard

    async def check(self, text: str | None, data: bytes | None = None) -> None:
        # Straight to the app: WebsocketCommunicator.send_to refuses empty frames.
        frame = {"text": text} if text is not None else {"bytes": data}
        await self.socket.send_input({"type": "websocket.receive", **frame})
        want = expected(parsed(text), may_control=self.may_control)
        got = await self.answers()
        shown = repr(text if text is not None else data)[:300]
        context = f"frame {shown}: expected {want}, got {got}"
        if want[0] == "error":
            _, ref, codes = want
            assert len(got) == 1 and got[0]["type"] == "error", context
            assert got[0]["code"] in codes and got[0]["ref"] == ref, context
            assert isinstance(got[0]["message"], str) and got[0]["message"], context
        elif want[0] in ("silent", "control"):
            assert got == [], context
            self.controls += want[0] == "control"
        elif want[0] in ("pong", "state_sync"):
            assert [frame["type"] for frame in got] == [want[0]], context
            if want[0] == "state_sync":
                assert 0 <= got[0]["position"] <= DURATION, context
        else:  # chat: stored and acknowledged, or refused by the flood guard
            if not got:
                # The ack travels through the channel layer (Redis pub/sub in production), the
                # fence's pong does not: it may overtake the ack.
                got = [await self.next_own_frame()]
            assert len(got) == 1, context
            if got[0]["type"] == "chat_message_event":
                self.acks += 1
            else:
                assert got[0]["type"] == "error", context
                assert got[0]["code"] == "RATE_LIMIT_EXCEEDED", context
                assert got[0]["retry_after"] >= 1 and got[0]["ref"] == "chat_message", context


def errors_logged(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR]


async def room_is_sound(room: Room, *, controls: int) -> Room:
    stored = await Room.objects.select_related("video").aget(pk=room.pk)
    assert stored.is_active
    assert math.isfinite(stored.current_position) and 0 <= stored.current_position <= DURATION
    assert math.isfinite(stored.rate) and MIN_RATE <= stored.rate <= MAX_RATE
    assert stored.seq == room.seq + controls
    return stored


@pytest.fixture
def quiet_sync(settings):
    """No periodic state_sync in the middle of a fence (only asked ones are expected)."""
    settings.ROOM_SYNC_INTERVAL = 3600


# --- Tests ---------------------------------------------------------------------------------------


async def test_every_known_frame_with_a_wrong_field_type_gets_a_bad_request_and_changes_nothing(
    author, viewer, quiet_sync, caplog
):
    room, host, guest = await host_and_guest(author, viewer)
    fuzzer = Fuzzer(host, user=author, may_control=True)
    cases = [
        *({"type": kind, "position": value} for kind in CONTROLS[:3] for value in NOT_NUMBERS),
        *({"type": "rate", "rate": value} for value in [*NOT_NUMBERS, None, 0, 0.2, 4.01, -1]),
        *({"type": "seek", "position": value} for value in [None, -0.001, DURATION + 0.001]),
        *({"type": "ping", "t0": value} for value in [*NOT_NUMBERS, None]),
        *({"type": "chat_message", "message": value} for value in [*NOT_STRINGS, *BAD_MESSAGES]),
        *({"type": "chat_message", "message": "ok", "client_id": v} for v in BAD_CLIENT_IDS),
        *({"type": "auth", "token": value} for value in [*NOT_STRINGS, "x", "\ud800"]),
        {"type": "seek"},
        {"type": "rate"},
        {"type": "ping"},
        {"type": "chat_message"},
    ]
    for frame in cases:
        assert expected(frame, may_control=True)[0] == "error", frame
        await fuzzer.check(json.dumps(frame))

    await room_is_sound(room, controls=0)
    assert await ChatMessage.objects.filter(room_id=room.pk).acount() == 0
    assert await guest.receive_nothing()  # nothing refused reached anyone else
    assert errors_logged(caplog) == []
    await host.disconnect()
    await guest.disconnect()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("guests_can_control", [False, True], ids=["host-controls", "both-control"])
async def test_random_frames_from_host_and_guest_are_all_answered_per_the_protocol(
    author, viewer, quiet_sync, caplog, seed, guests_can_control
):
    room, host, guest = await host_and_guest(author, viewer, guests_can_control=guests_can_control)
    rng = random.Random(seed)
    as_host = Fuzzer(host, user=author, may_control=True)
    as_guest = Fuzzer(guest, user=viewer, may_control=guests_can_control)
    for _ in range(RANDOM_FRAMES):
        await (as_host if rng.random() < 0.6 else as_guest).check(*random_frame(rng))

    assert guests_can_control or as_guest.controls == 0
    stored = await room_is_sound(room, controls=as_host.controls + as_guest.controls)
    for fuzzer in (as_host, as_guest):
        kept = [
            m.message
            async for m in ChatMessage.objects.filter(room_id=room.pk, user_id=fuzzer.user.pk)
        ]
        assert len(kept) == fuzzer.acks
        assert all(storable(text) and 0 < len(text) <= 500 for text in kept)
    # Each side heard every control of the other's that was accepted, in order; together,
    # every seq once; each within the video.
    controls = {f"{kind}_event" for kind in CONTROLS}
    events = []
    for fuzzer, other in ((as_host, as_guest), (as_guest, as_host)):
        heard = [frame for frame in await fuzzer.drain() if frame["type"] in controls]
        assert len(heard) == other.controls
        assert [e["seq"] for e in heard] == sorted(e["seq"] for e in heard)
        assert {e["by_user_id"] for e in heard} <= {other.user.pk}
        events += heard
    assert sorted(e["seq"] for e in events) == list(range(room.seq + 1, stored.seq + 1))
    outside = [
        e
        for e in events
        if not (0 <= e["position"] <= DURATION and MIN_RATE <= e["rate"] <= MAX_RATE)
    ]
    assert outside == []
    assert errors_logged(caplog) == []
    for fuzzer in (as_host, as_guest):
        assert await fuzzer.answers() == []  # still usable
    await host.disconnect()
    await guest.disconnect()


async def test_garbage_text_and_binary_frames_get_a_bad_request_without_a_ref(
    author, quiet_sync, caplog
):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)
    fuzzer = Fuzzer(socket, user=author, may_control=True)
    rng = random.Random(SEED + 1)
    frames = [
        "[" * 60_000,
        '{"a":' * 12_000,
        '{"type": "ping", "t0": 1, "t0": "one"}',  # duplicate keys: the last one counts
        '{"type": "ping", "type": "dance"}',
        *(random_garbage(rng) for _ in range(60)),
    ]
    for text in frames:
        await fuzzer.check(text)
    for data in [b"", b"\x00", b'{"type": "ping", "t0": 1}', rng.randbytes(4096)]:
        await fuzzer.check(None, data)
    assert errors_logged(caplog) == []
    await socket.disconnect()


@pytest.mark.parametrize(
    ("unit", "binary"),
    [("p", False), ("é", False), ("😀", False), ("b", True)],
    ids=["ascii", "two-byte", "four-byte", "binary"],
)
async def test_a_frame_of_exactly_the_limit_is_answered_and_one_byte_more_closes_with_1009(
    author, unit, binary, caplog
):
    limit = settings.ROOM_MAX_FRAME_BYTES
    room = await database_sync_to_async(make_room)(author)

    def frame_of(size: int) -> dict:
        if binary:
            return {"bytes_data": b"b" * size}
        head, tail = '{"type": "ping", "t0": 7, "pad": "', '"}'
        left = size - len(head) - len(tail)
        width = len(unit.encode())
        text = head + unit * (left // width) + "p" * (left % width) + tail
        assert len(text.encode()) == size
        return {"text_data": text}

    socket, _ = await enter(room.pk, author)
    await socket.send_to(**frame_of(limit))
    answer = await socket.receive_json_from(REPLY_TIMEOUT)
    if binary:
        assert answer["type"] == "error" and answer["code"] == "BAD_REQUEST"
    else:
        assert (answer["type"], answer["t0"]) == ("pong", 7)
    await socket.send_to(**frame_of(limit + 1))
    assert await close_code(socket, REPLY_TIMEOUT) == 1009
    await socket.disconnect()
    assert errors_logged(caplog) == []


async def test_a_ping_flood_gets_every_pong_in_order(author, quiet_sync, caplog):
    room = await database_sync_to_async(make_room)(author)
    socket, _ = await enter(room.pk, author)
    for t0 in range(500):
        await send(socket, {"type": "ping", "t0": t0})
    pongs = [await socket.receive_json_from(REPLY_TIMEOUT) for _ in range(500)]
    assert [(p["type"], p["t0"]) for p in pongs] == [("pong", t0) for t0 in range(500)]
    assert await socket.receive_nothing()
    assert errors_logged(caplog) == []
    await socket.disconnect()


async def test_a_chat_flood_stores_exactly_what_it_acknowledges(author, viewer, quiet_sync, caplog):
    room, host, guest = await host_and_guest(author, viewer)
    for n in range(40):
        await send(guest, {"type": "chat_message", "message": f"spam {n}", "client_id": str(n)})
    answers = [await guest.receive_json_from(REPLY_TIMEOUT) for _ in range(40)]
    acks = [a for a in answers if a["type"] == "chat_message_event"]
    refusals = [a for a in answers if a["type"] == "error"]
    assert len(acks) == FLOOD_MESSAGES and len(refusals) == 40 - FLOOD_MESSAGES
    assert all(r["code"] == "RATE_LIMIT_EXCEEDED" and r["retry_after"] >= 1 for r in refusals)
    assert all(r["ref"] == "chat_message" for r in refusals)
    stored = [
        m
        async for m in ChatMessage.objects.filter(room_id=room.pk)
        .order_by("pk")
        .values_list("pk", "client_id")
    ]
    assert stored == [(a["message_id"], a["client_id"]) for a in acks]
    heard = [await host.receive_json_from(REPLY_TIMEOUT) for _ in range(FLOOD_MESSAGES)]
    assert [h["message_id"] for h in heard] == [a["message_id"] for a in acks]
    assert await host.receive_nothing()
    await send(guest, {"type": "ping", "t0": 1})
    assert (await guest.receive_json_from())["type"] == "pong"
    assert errors_logged(caplog) == []
    await host.disconnect()
    await guest.disconnect()


async def test_a_typing_flood_is_relayed_at_most_once_a_second_and_answers_nothing(
    author, viewer, quiet_sync, caplog
):
    room, host, guest = await host_and_guest(author, viewer)
    for _ in range(300):
        await send(guest, {"type": "typing"})
    await send(guest, {"type": "ping", "t0": 1})
    assert (await guest.receive_json_from(REPLY_TIMEOUT))["type"] == "pong"  # nothing before
    relayed = []
    while not await host.receive_nothing(0.3):
        relayed.append(await host.receive_json_from())
    assert 1 <= len(relayed) <= 2  # the one-second throttle may roll over once mid-flood
    assert all(r == {"type": "typing", "user_id": viewer.pk, "username": "victor"} for r in relayed)
    assert errors_logged(caplog) == []
    await host.disconnect()
    await guest.disconnect()


@pytest.mark.parametrize(
    "token",
    ["\ud800", "\x00" * 64, "é" * 64, "a" * 1000, "", None, 7, ["t"], {"token": "t"}, True],
    ids=lambda token: repr(token)[:20],
)
async def test_a_garbage_auth_frame_closes_4001_without_a_crash(author, token, caplog):
    """The first frame of a socket without credentials: anything but a valid token is 4001."""
    room = await database_sync_to_async(make_room)(author)
    socket = await open_socket(room.pk, None)
    await send(socket, {"type": "auth", "token": token})
    assert await close_code(socket, REPLY_TIMEOUT) == 4001
    assert errors_logged(caplog) == []
    await socket.disconnect()
