"""A participant's room socket over real WebSockets, for the live fault tests
(test_redis_outage, test_database_restart): it reconnects as static/js/room.js does."""

import asyncio
import json
import random
import time
import uuid
from dataclasses import dataclass, field

from websockets.exceptions import ConnectionClosed, InvalidStatus

FINAL_CLOSES = (4000, 4001, 4003, 4004, 4009)  # room.js stops reconnecting after these
RECONNECT_MIN_S, RECONNECT_MAX_S = 0.5, 10  # room.js's
FRAME_TIMEOUT = 10


@dataclass
class RoomClient:
    """One participant's socket, reconnecting like static/js/room.js: any close but the
    final ones (4000, 4001, 4003, 4004, 4009) is retried with a growing, jittered delay."""

    base: str
    room_id: int
    token: str
    name: str
    socket: object = None
    closes: list[int] = field(default_factory=list)
    states: list[dict] = field(default_factory=list)
    frames: list[dict] = field(default_factory=list)

    async def connect_once(self) -> dict:
        from websockets.asyncio.client import connect

        self.socket = await connect(
            f"{self.base}/ws/rooms/{self.room_id}/",
            origin="http://127.0.0.1",
            additional_headers={"Authorization": f"Bearer {self.token}"},
            open_timeout=FRAME_TIMEOUT,
            close_timeout=2,
        )
        first = await self.next_frame()
        assert first["type"] == "room_state", first
        self.states.append(first)
        return first

    async def reconnect(self, *, within: float) -> dict:
        """Keep trying, as room.js does, until a `room_state` arrives."""
        deadline = time.monotonic() + within
        attempt = 0
        while True:
            try:
                return await self.connect_once()
            except ConnectionClosed as exc:
                code = exc.rcvd.code if exc.rcvd else None
                self.closes.append(code)
                assert code not in (1011, *FINAL_CLOSES), (self.name, code)
            except InvalidStatus as exc:
                raise AssertionError(f"{self.name}: handshake refused: {exc}") from exc
            except (OSError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} could not reconnect; closes {self.closes}")
            ceiling = min(RECONNECT_MAX_S, RECONNECT_MIN_S * 2**attempt)
            attempt += 1
            await asyncio.sleep(ceiling * (0.5 + random.random() / 2))

    async def next_frame(self, timeout: float = FRAME_TIMEOUT) -> dict:
        frame = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
        self.frames.append(frame)
        return frame

    async def frame_of(self, kind: str, timeout: float = FRAME_TIMEOUT) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            frame = await self.next_frame(max(0.1, deadline - time.monotonic()))
            if frame["type"] == kind:
                return frame

    async def chat(self, text: str) -> tuple[str, str, str]:
        """Send a message: ("acked" | "refused" | "closed", client_id, text), "refused" after
        an error frame, "closed" when the socket closed before either."""
        client_id = uuid.uuid4().hex
        try:
            await self.socket.send(
                json.dumps({"type": "chat_message", "message": text, "client_id": client_id})
            )
            while True:
                frame = await self.next_frame()
                if frame["type"] == "chat_message_event" and frame.get("client_id") == client_id:
                    return "acked", client_id, text
                if frame["type"] == "error" and frame.get("ref") == "chat_message":
                    assert frame["code"] != "INTERNAL_SERVER_ERROR", frame
                    return "refused", client_id, text
        except ConnectionClosed as exc:
            self.closes.append(exc.rcvd.code if exc.rcvd else None)
            return "closed", client_id, text

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()
