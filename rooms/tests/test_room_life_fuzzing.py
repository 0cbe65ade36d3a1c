"""A room's whole life at random: people join, open second tabs, drop their sockets, leave,
get removed, come back; the host changes the settings; everyone plays, seeks and chats.

The socket fuzzer (test_socket_fuzzing.py) holds the membership still and varies the frames;
this varies the membership and settings around valid frames, where ordering bugs between the
REST services and the sockets would show: a socket left counted, a removed person still
hearing the room, an error where the protocol has an answer. Seeded like the socket fuzzer
(VIDEOHOST_FUZZ_SEED, SEEDS); a failure names the step and the steps before it.
"""

import asyncio
import json
import random

import pytest
from channels.db import database_sync_to_async

from rooms import services
from rooms.models import ChatMessage, Room, RoomParticipant
from rooms.services import MAX_RATE, MIN_RATE
from rooms.tests.test_consumer_support import CONSUMER_TESTS, DURATION, make_room, open_socket
from rooms.tests.test_socket_fuzzing import SEEDS, errors_logged
from videohost.errors import DomainError
from videohost.testing import UserFactory

pytestmark = CONSUMER_TESTS

STEPS = 150
GUESTS = 8
# Every error code a valid frame may meet while the room changes around it (a guest's control
# after the host took control back, slow mode, a tab of someone who just left), and every
# code a socket may be closed with: left (1000), removed (4003).
EXPECTED_ERRORS = {"FORBIDDEN", "RATE_LIMIT_EXCEEDED", "NOT_FOUND", "CONFLICT"}
EXPECTED_CLOSES = {1000, 4003}


class Tab:
    """One socket of one person, and everything it was sent."""

    def __init__(self, socket, person):
        self.socket, self.person = socket, person
        self.closed: int | None = None
        self.frames: list[dict] = []

    async def drain(self, quiet: float = 0.01) -> None:
        # receive_nothing, not a timeout on receive_output: a timeout cancels the consumer.
        while self.closed is None and not await self.socket.receive_nothing(quiet):
            output = await self.socket.receive_output()
            if output["type"] == "websocket.close":
                self.closed = output.get("code", 1000)
                # What daphne does once the close handshake is over.
                await self.socket.disconnect(self.closed)
            else:
                self.frames.append(json.loads(output["text"]))

    async def drain_until_closed(self, within: float = 10.0) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.closed is None and loop.time() < deadline:
            await self.drain(quiet=0.05)


class Life:
    def __init__(self, room, host, guests, rng: random.Random):
        self.room, self.host, self.guests, self.rng = room, host, guests, rng
        self.tabs: list[Tab] = []
        self.members = set()  # guests in the room (joined, not left or removed)
        self.banned = set()
        self.messages_sent = 0  # numbers each message's client_id
        self.log: list[str] = []

    def open_tabs(self, person=None) -> list[Tab]:
        return [t for t in self.tabs if t.closed is None and (person is None or t.person is person)]

    async def open_tab(self, person) -> None:
        tab = Tab(await open_socket(self.room.pk, person), person)
        self.tabs.append(tab)
        await tab.drain()

    async def step(self) -> None:
        rng = self.rng
        outsiders = [g for g in self.guests if g not in self.members and g not in self.banned]
        members = sorted(self.members, key=lambda g: g.pk)
        roll = rng.random()
        if roll < 0.50 and self.open_tabs():
            tab = rng.choice(self.open_tabs())
            frame = self.random_frame(tab.person)
            self.log.append(f"{tab.person.username} sends {frame}")
            await tab.socket.send_json_to(frame)
        elif roll < 0.56:
            changes = rng.choice(
                [
                    {"guests_can_control": rng.random() < 0.5},
                    {"message_delay": rng.choice([0, 1])},
                    {"max_participants": rng.choice([None, 3, 10])},
                ]
            )
            self.log.append(f"host changes {changes}")
            await self.service(services.room_update, actor=self.host, **changes)
        elif roll < 0.59 and members:
            guest = rng.choice(members)
            self.log.append(f"host removes {guest.username}")
            if await self.service(services.room_kick, actor=self.host, user_id=guest.pk):
                self.members.discard(guest)
                self.banned.add(guest)
        elif roll < 0.66 and members:
            guest = rng.choice(members)
            tabs = self.open_tabs(guest)
            if tabs and rng.random() < 0.5:
                self.log.append(f"{guest.username} sends leave")
                tab = rng.choice(tabs)
                await tab.socket.send_json_to({"type": "leave"})
                # Its effect comes when the consumer gets to it; a rejoin over REST before
                # then would find the guest still in, and the leave would then undo it.
                await tab.drain_until_closed()
            else:
                self.log.append(f"{guest.username} leaves over REST")
                await self.service(services.room_leave, user=guest)
            self.members.discard(guest)
        elif roll < 0.86 and outsiders:
            guest = rng.choice(outsiders)
            self.log.append(f"{guest.username} joins")
            if await self.service(services.room_join, user=guest):
                self.members.add(guest)
                await self.open_tab(guest)
        elif roll < 0.93 and members:
            guest = rng.choice(members)
            self.log.append(f"{guest.username} opens another tab")
            await self.open_tab(guest)
        elif self.open_tabs():
            tab = rng.choice([t for t in self.open_tabs() if t.person is not self.host] or [None])
            if tab is not None:
                self.log.append(f"{tab.person.username}'s tab drops")
                await tab.socket.disconnect()
                tab.closed = -1  # by the client
        await asyncio.gather(*(tab.drain() for tab in self.open_tabs()))

    async def service(self, function, **kwargs) -> bool:
        """A REST action through its service; a refusal is an answer, not a failure."""
        try:
            await database_sync_to_async(function)(room_id=self.room.pk, **kwargs)
        except DomainError as refused:
            self.log[-1] += f" -> {refused.code}"
            return False
        return True

    def random_frame(self, person) -> dict:
        rng = self.rng
        kind = rng.choice(
            ["ping", "sync_request", "typing", "chat", "play", "pause", "seek", "rate"]
        )
        if kind == "ping":
            return {"type": "ping", "t0": rng.uniform(0, 2e12)}
        if kind in ("sync_request", "typing"):
            return {"type": kind}
        if kind == "chat":
            client_id = f"{person.username}-{self.messages_sent}"
            self.messages_sent += 1
            return {"type": "chat_message", "message": "hi", "client_id": client_id}
        if kind == "rate":
            return {"type": "rate", "rate": rng.choice([0.5, 1, 1.5, 2])}
        return {"type": kind, "position": round(rng.uniform(0, DURATION), 3)}


@database_sync_to_async
def anybody_counted(room) -> bool:
    # Through database_sync_to_async, which closes its connection as the consumer's calls do
    # (the async ORM's would stay open and hold the test database at teardown).
    return RoomParticipant.objects.filter(room_id=room.pk, connections__gt=0).exists()


async def nobody_counted(room, within: float = 5.0) -> bool:
    """Whether every socket is uncounted within `within` seconds: a socket's bookkeeping
    finishes in a task of its own after its consumer has returned."""
    for _ in range(int(within / 0.05)):
        if not await anybody_counted(room):
            return True
        await asyncio.sleep(0.05)
    return False


@pytest.mark.parametrize("seed", SEEDS)
async def test_a_room_through_random_joins_leaves_removals_and_setting_changes_stays_sound(
    author, settings, caplog, seed
):
    settings.ROOM_SYNC_INTERVAL = 3600
    guests = await database_sync_to_async(
        lambda: [UserFactory(username=f"guest{n}") for n in range(GUESTS)]
    )()
    room = await database_sync_to_async(make_room)(author)
    life = Life(room, author, guests, random.Random(seed))
    await life.open_tab(author)
    for number in range(STEPS):
        await life.step()
        context = f"seed {seed}, step {number}: " + "\n".join(life.log[-8:])
        for tab in life.tabs:
            errors = [f for f in tab.frames if f["type"] == "error"]
            assert {f["code"] for f in errors} <= EXPECTED_ERRORS, (context, errors)
            assert tab.closed in EXPECTED_CLOSES | {None, -1}, (context, tab.closed)
        assert life.open_tabs(author), context  # the host is never shut out
    await asyncio.gather(*(tab.drain(0.3) for tab in life.open_tabs()))
    context = f"seed {seed}: " + "\n".join(life.log[-12:])

    # Nobody who left or was removed still holds a socket.
    for guest in set(guests) - life.members:
        assert life.open_tabs(guest) == [], (context, guest.username)
    # Every acknowledged message is stored, with its sender.
    acked = {
        f["client_id"]: f["user_id"]
        for tab in life.tabs
        for f in tab.frames
        if f["type"] == "chat_message_event" and f.get("client_id")
    }
    stored = {
        m.client_id: m.user_id
        async for m in ChatMessage.objects.filter(room_id=room.pk, client_id__in=list(acked))
    }
    assert stored == acked, context
    # The state is within the video; after every socket has gone, none is counted.
    for tab in life.open_tabs():
        await tab.socket.disconnect()
    stored_room = await Room.objects.aget(pk=room.pk)
    assert stored_room.is_active, context
    assert 0 <= stored_room.current_position <= DURATION, context
    assert MIN_RATE <= stored_room.rate <= MAX_RATE, context
    assert await nobody_counted(room), context
    assert errors_logged(caplog) == [], context
