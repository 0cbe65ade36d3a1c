"""The watch-room WebSocket (ROOM_PROTOCOL.md): one RoomConsumer per open socket.

Thin by design: every rule lives in rooms.services (writes) and rooms.selectors (reads), called
through `database_sync_to_async`; this module only checks frame shapes, maps domain errors to
error frames or close codes, and relays events through the channel layer (rooms.events), which
is shared by every server process. Nothing about a room is kept in a process: a socket served
by any process sees the same room.
"""

import asyncio
import json
import logging
import math
import os
import time
import weakref
from concurrent.futures import ThreadPoolExecutor

from autobahn.exception import Disconnected
from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import close_old_connections
from django.utils.functional import LazyObject
from rest_framework.fields import DateTimeField

from rooms import events, layer_health, selectors, services
from rooms.auth import AUTH_FAILED, auser_for_token
from videohost.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from videohost.outages import RETRY_AFTER_SECONDS, check_idle_pool_connections, outage_of

logger = logging.getLogger("videohost.rooms")

CLOSE_NORMAL = 1000
CLOSE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011
# PostgreSQL or Redis away: reconnecting later will work. WebSocket's own code for that is
# 1013, but daphne (autobahn) lets a server send only 1000 or 3000–4999, so it is the REST
# status + 4000 like the refusals below; room.js reconnects on any code it does not know.
CLOSE_TRY_AGAIN_LATER = 4503
CLOSE_ROOM_CLOSED = 4000
CLOSE_UNAUTHENTICATED = 4001
CLOSE_FORBIDDEN = 4003
CLOSE_NOT_FOUND = 4004
CLOSE_FULL = 4009

# How a refused join closes the socket: the REST join's status + 4000.
JOIN_REFUSALS: tuple[tuple[type[DomainError], int], ...] = (
    (NotAuthenticated, CLOSE_UNAUTHENTICATED),
    (NotAllowed, CLOSE_FORBIDDEN),
    (NotFound, CLOSE_NOT_FOUND),
    (Conflict, CLOSE_FULL),
)

HISTORY_LENGTH = 50
CLIENT_ID_MAX_LENGTH = 64
# One `typing` relay per user and room per this many seconds (cache timeouts are whole seconds).
TYPING_THROTTLE_SECONDS = 1
# The grace timer fires this much after the deadline, so the database sees it as passed.
GRACE_MARGIN_SECONDS = 0.05

_timestamp = DateTimeField()

# Host grace timers run on the event loop, not in a consumer: the consumer of the socket that
# dropped ends at once, and its tasks with it. Keeping a reference stops the loop from
# garbage-collecting a pending task. A process that dies loses its timers; the periodic tick of
# every other socket in the room checks the deadline too (RoomConsumer._tick).
_grace_timers: set[asyncio.Task] = set()


class BadFrame(Exception):
    """A frame of a known type with missing or ill-typed fields."""


# --- Frames -----------------------------------------------------------------------------------


def state_fields(state) -> dict:
    return {
        "position": state.position,
        "is_playing": state.is_playing,
        "rate": state.rate,
        "server_time": state.server_time,
        "seq": state.seq,
    }


def message_fields(message) -> dict:
    return {
        "message_id": message.pk,
        "user_id": message.user_id,
        "username": message.user.username,
        "message": message.message,
        "timestamp": _timestamp.to_representation(message.created_at),
    }


def error_frame(code: str, message: str, ref: str | None, retry_after: int | None = None):
    frame = {"type": "error", "code": code, "message": message, "ref": ref}
    if retry_after is not None:
        frame["retry_after"] = retry_after
    return frame


def _number(content: dict, field: str, *, required: bool = True) -> float | None:
    """A finite JSON number (not a boolean, not a string, not NaN or Infinity)."""
    if field not in content or content[field] is None:
        if required:
            raise BadFrame(f"`{field}` is required.")
        return None
    value = content[field]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise BadFrame(f"`{field}` must be a number.")
    try:
        value = float(value)
    except OverflowError:
        raise BadFrame(f"`{field}` must be a finite number.") from None
    if not math.isfinite(value):
        raise BadFrame(f"`{field}` must be a finite number.")
    return value


def _too_big(data: str | bytes) -> bool:
    limit = settings.ROOM_MAX_FRAME_BYTES
    if len(data) > limit:
        return True
    # A character is up to 4 bytes in UTF-8; only near the limit is encoding worth it.
    return isinstance(data, str) and len(data) * 4 > limit and len(data.encode()) > limit


# --- Database work, one thread hop each (services write, selectors read) ---------------------


def _enter(*, room_id: int, user) -> None:
    """Join with the REST join's rules, and count this socket."""
    services.room_join(room_id=room_id, user=user)
    services.participant_connected(room_id=room_id, user=user)


def _snapshot(*, room_id: int, user) -> dict:
    from rooms.serializers import RoomSerializer

    room = selectors.room_for_viewer(room_id=room_id, user=user)
    members = selectors.room_participants(room)
    me = next((p for p in members if p.user_id == user.pk), None)
    if me is None:
        # Kicked (or left from another tab) between the join and now.
        raise NotAllowed("You are no longer in this room.")
    connected = [p for p in members if p.connections > 0]
    return {
        "room_state": {
            "type": "room_state",
            "you": {"user_id": user.pk, "is_host": room.owner_id == user.pk},
            "room": RoomSerializer(room).data,
            "participants": [
                {
                    "user_id": p.user_id,
                    "username": p.user.username,
                    "is_host": p.user_id == room.owner_id,
                }
                for p in connected
            ],
            "state": state_fields(selectors.room_state(room)),
            "history": [
                message_fields(m) for m in selectors.chat_history(room, limit=HISTORY_LENGTH)
            ],
        },
        "first_socket": me.connections == 1,
        "participants_count": len(connected),
    }


def _leave_socket(*, room_id: int, user) -> dict:
    room, host_went_away = services.participant_disconnected(room_id=room_id, user=user)
    still_here = (
        selectors.present_participants()
        .filter(room_id=room_id, user=user, connections__gt=0)
        .exists()
    )
    return {
        "host_went_away": host_went_away,
        "state": state_fields(selectors.room_state(room)) if host_went_away else None,
        "is_active": room.is_active,
        "still_connected": still_here,
        "participants_count": events.connected_count(room_id),
    }


def _current_state(*, room_id: int, user) -> dict:
    room = selectors.room_for_viewer(room_id=room_id, user=user)
    return state_fields(selectors.room_state(room))


def _tick(*, room_id: int, user, now: float) -> dict:
    """What the periodic tick needs: the state for state_sync, or the close code when this
    socket should not be in the room any more (closed: 4004; left or kicked: 4003).

    Also the lazy half of the host grace period: whichever socket notices a passed deadline
    closes the room (services.host_grace_expire re-checks under a row lock, so racing ticks
    close it once, and room_close tells every socket)."""
    try:
        room = selectors.room_for_viewer(room_id=room_id, user=user)
    except NotFound:
        return {"state": None, "gone": CLOSE_NOT_FOUND}
    if not selectors.is_participant(room=room, user=user):
        return {"state": None, "gone": CLOSE_FORBIDDEN}
    away_since = room.host_disconnected_at
    if away_since is not None and now - away_since.timestamp() >= settings.ROOM_HOST_GRACE_SECONDS:
        if services.host_grace_expire(room_id=room_id):
            return {"state": None, "gone": None}
    return {"state": state_fields(selectors.room_state(room, now=now)), "gone": None}


def _room_tick(*, room_id: int, now: float) -> dict | None:
    """The part of `_tick` that is the same for every socket of the room: its state and who
    is in it, or None once it is closed (or its video unlisted). Closes it when its host's
    grace has passed, as `_tick` does."""
    room = selectors.open_room(room_id)
    if room is None:
        return None
    away_since = room.host_disconnected_at
    if away_since is not None and now - away_since.timestamp() >= settings.ROOM_HOST_GRACE_SECONDS:
        if services.host_grace_expire(room_id=room_id):
            return None
    return {
        "state": state_fields(selectors.room_state(room, now=now)),
        "present": selectors.present_user_ids(room_id),
    }


def _post_chat(*, room_id: int, user, message: str, client_id: str | None) -> dict:
    try:
        saved = services.chat_post(room_id=room_id, user=user, message=message, client_id=client_id)
        return {**message_fields(saved), "client_id": saved.client_id or None}
    finally:
        # On the chat threads (`post_chat`) database_sync_to_async's own clean-up did not
        # reach the connection the call used, which stayed open past CONN_MAX_AGE (and held
        # the test database at teardown): this is the same clean-up, where the call runs.
        close_old_connections()


def _leave_room(*, room_id: int, user) -> dict:
    """Leave for good. The consumer announces it itself (notify=False), with the count of
    connected people its other frames use; the host leaving closes the room instead."""
    room = services.room_leave(room_id=room_id, user=user, notify=False)
    return {
        "closed_room": not room.is_active,
        "participants_count": events.connected_count(room_id),
    }


def _expire_host_grace(*, room_id: int) -> bool:
    return services.host_grace_expire(room_id=room_id)


room_tick = database_sync_to_async(_room_tick)
enter = database_sync_to_async(_enter)
snapshot = database_sync_to_async(_snapshot)
leave_socket = database_sync_to_async(_leave_socket)
current_state = database_sync_to_async(_current_state)
tick = database_sync_to_async(_tick)
# Chat is the hot write: a busy room sends many messages a second, each a few round trips to
# the database. On the process's one database thread they queued behind each other and behind
# every join and control; on threads of their own they are stored side by side (each person's
# in order: one socket handles one frame at a time, and chat_post locks the sender's row).
# Three threads and the database thread stay within the pool of DATABASE_POOL.
CHAT_THREADS = 3


def _chat_store():
    threads = ThreadPoolExecutor(max_workers=CHAT_THREADS, thread_name_prefix="room-chat")
    return database_sync_to_async(_post_chat, thread_sensitive=False, executor=threads)


post_chat = _chat_store()


def _restart_chat_threads() -> None:
    # A forked server (the multi-process tests) inherits the executor but not its threads,
    # and an executor that believes it has idle threads would never start one.
    global post_chat
    post_chat = _chat_store()


os.register_at_fork(after_in_child=_restart_chat_threads)


leave_room = database_sync_to_async(_leave_room)
playback_control = database_sync_to_async(services.playback_control)
expire_host_grace = database_sync_to_async(_expire_host_grace)
# After a database restart, the pool's idle connections are all dead (videohost.outages).
purge_dead_connections = database_sync_to_async(check_idle_pool_connections)


# Bookkeeping that must finish even if its socket's task is cancelled. daphne kills an
# application instance still running 10 s after its client left — under load, one waiting for
# the database thread — and a kill skips `disconnect`: a socket counted in
# RoomParticipant.connections and never uncounted is a ghost participant (and a host who never
# "went away", so the room never closes). Strong references: the loop keeps only weak ones.
_bookkeeping: set[asyncio.Task] = set()


def finish_regardless(awaitable) -> asyncio.Task:
    task = asyncio.ensure_future(awaitable)
    _bookkeeping.add(task)
    task.add_done_callback(_bookkeeping.discard)
    return task


async def uncount_socket(room_id: int, user) -> None:
    """Undo a joined socket's count after its consumer was killed (no one to tell)."""
    try:
        outcome = await leave_socket(room_id=room_id, user=user)
    except NotFound:
        return  # the room (or the participant with it) was deleted: nothing left to count
    except Exception:
        logger.exception("Bookkeeping of a killed socket in room %s failed", room_id)
        return
    if outcome["host_went_away"]:
        schedule_host_grace_check(room_id)


# One `_room_tick` read per room and process every half sync interval, shared by the room's
# sockets here. Each socket reading for itself cost a read per socket every ROOM_SYNC_INTERVAL
# on the process's one database thread: 2,000 paused sockets are 400 reads a second, more than
# a process can do, and joins, controls and chat queued behind them (bench/idle_connections.py).
# Per event loop, as the tests run one loop each.
_room_reads: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict]" = (
    weakref.WeakKeyDictionary()
)


async def shared_tick(*, room_id: int, user, now: float) -> dict:
    """What `_tick` answers, from the room's shared read while this user is still in the room;
    a closed room, or a user who is no longer in it, gets `_tick` itself (rare: the events
    usually close those sockets first), which tells 4004 from 4003 as before."""
    reads = _room_reads.setdefault(asyncio.get_running_loop(), {})
    started, read = reads.get(room_id, (-math.inf, None))
    if read is None or now - started >= settings.ROOM_SYNC_INTERVAL / 2:
        expired = now - 2 * settings.ROOM_SYNC_INTERVAL
        for stale in [key for key, (at, _) in reads.items() if at < expired]:
            del reads[stale]
        started, read = now, asyncio.ensure_future(room_tick(room_id=room_id, now=now))
        reads[room_id] = (started, read)
    # Shielded: a socket that closes while waiting must not cancel the others' read.
    shared = await asyncio.shield(read)
    if shared is None or user.pk not in shared["present"]:
        return await tick(room_id=room_id, user=user, now=now)
    return {"state": shared["state"], "gone": None}


def schedule_host_grace_check(room_id: int) -> asyncio.Task:
    """Close the room with `host_timeout` if the host is still away when the grace ends."""
    delay = settings.ROOM_HOST_GRACE_SECONDS + GRACE_MARGIN_SECONDS
    task = asyncio.get_running_loop().create_task(_host_grace_timer(room_id, delay))
    _grace_timers.add(task)
    task.add_done_callback(_grace_timers.discard)
    return task


async def _host_grace_timer(room_id: int, delay: float) -> None:
    await asyncio.sleep(delay)
    try:
        await expire_host_grace(room_id=room_id)
    except Exception:
        logger.exception("Host grace check of room %s failed", room_id)


# --- The consumer -----------------------------------------------------------------------------


class RoomConsumer(AsyncJsonWebsocketConsumer):
    """One participant's socket in one room."""

    # When this socket subscribed to the room's group (events.is_stale_for); read by dispatch,
    # which also runs before connect.
    subscribed_at: float | None = None
    # When this socket's client last got a room_state (monotonic): a layer failure after it
    # means events may have been lost, so it gets a fresh one (resync_after_layer_outage).
    synced_at: float = 0.0

    async def __call__(self, scope, receive, send):
        # Channels subscribes the socket's own channel before the consumer sees the handshake;
        # with Redis away that raises and daphne answers the handshake 500. Ask first (the
        # process's last word on the layer, no waiting), and turn the client away with "try
        # again later".
        if self.channel_layer_alias and not layer_health.layer_reachable():
            message = await receive()
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_TRY_AGAIN_LATER})
            return
        try:
            await super().__call__(scope, receive, send)
        except asyncio.CancelledError:
            self.uncount_if_killed()
            raise

    def uncount_if_killed(self) -> None:
        """The instance was killed (see `finish_regardless`): undo this socket's count now,
        or as soon as a join still in progress has made it (`counted`)."""
        self.killed = True
        if getattr(self, "joined", False):
            self.joined = False
            finish_regardless(uncount_socket(self.room_id, self.user))

    def counted(self, entering: asyncio.Task) -> None:
        """The join's count is in the database (a done callback: it runs even if this
        consumer was cancelled while waiting for it)."""
        if entering.cancelled() or entering.exception() is not None:
            return
        if getattr(self, "killed", False):
            finish_regardless(uncount_socket(self.room_id, self.user))
        else:
            self.joined = True

    async def connect(self):
        self.room_id = int(self.scope["url_route"]["kwargs"]["room_id"])
        user = self.scope.get("user") or AnonymousUser()
        self.user = user._wrapped if isinstance(user, LazyObject) else user
        self.joined = False  # counted in RoomParticipant.connections: undo on disconnect
        self.finished = False  # closing: ignore anything that still arrives
        self.departed = False  # left, kicked or closed: no user_left on disconnect
        self.awaiting_auth = False
        self.tasks: list[asyncio.Task] = []
        # Accept before refusing, so the client reads the close code instead of a failed
        # handshake.
        await self.accept()
        if self.scope.get(AUTH_FAILED):
            await self.refuse(CLOSE_UNAUTHENTICATED)
        elif not self.user.is_authenticated:
            self.awaiting_auth = True
            self.tasks.append(asyncio.create_task(self.auth_deadline()))
        else:
            await self.join()

    async def disconnect(self, code):
        self.finished = True
        for task in self.tasks:
            task.cancel()
        if not self.joined:
            return
        self.joined = False
        try:
            await self.channel_layer.group_discard(
                events.group_name(self.room_id), self.channel_name
            )
        except Exception as exc:
            # Redis away: the subscription goes with the connection anyway. The count of
            # this socket below must still be undone, or the participant stays "connected".
            if outage_of(exc) is None:
                raise
            layer_health.layer_failed(exc, f"leaving room {self.room_id}'s group")
        try:
            # Shielded: killed meanwhile, the bookkeeping still completes.
            outcome = await asyncio.shield(
                finish_regardless(leave_socket(room_id=self.room_id, user=self.user))
            )
        except Exception:
            logger.exception("Disconnect bookkeeping of room %s failed", self.room_id)
            return
        if outcome["host_went_away"]:
            frame = {"type": "pause_event", **outcome["state"], "by_user_id": self.user.pk}
            await events.broadcast(self.room_id, frame)
            schedule_host_grace_check(self.room_id)
        if not self.departed and outcome["is_active"] and not outcome["still_connected"]:
            await events.broadcast(
                self.room_id,
                {
                    "type": "user_left",
                    "user_id": self.user.pk,
                    "username": self.user.username,
                    "participants_count": outcome["participants_count"],
                },
            )

    # --- Authentication and joining ----------------------------------------------------------

    async def auth_deadline(self):
        await asyncio.sleep(getattr(settings, "ROOM_AUTH_TIMEOUT_SECONDS", 5))
        if self.awaiting_auth:
            self.awaiting_auth = False
            await self.refuse(CLOSE_UNAUTHENTICATED)

    async def authenticate(self, content):
        """The first frame of a socket without credentials must be {"type": "auth", token}."""
        self.awaiting_auth = False
        token = content.get("token") if isinstance(content, dict) else None
        user = None
        if isinstance(content, dict) and content.get("type") == "auth":
            user = await auser_for_token(token)
        if user is None:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        await self.join()

    async def join(self):
        group = events.group_name(self.room_id)
        try:
            # Shielded, like the disconnect's bookkeeping; `counted` sets `joined`.
            entering = finish_regardless(enter(room_id=self.room_id, user=self.user))
            entering.add_done_callback(self.counted)
            await asyncio.shield(entering)
            # Subscribe, then snapshot again: an event between the two is at worst seen twice
            # (clients drop it by seq), never missed.
            self.subscribed_at = self.synced_at = time.monotonic()
            await self.channel_layer.group_add(group, self.channel_name)
            state = await snapshot(room_id=self.room_id, user=self.user)
        except DomainError as exc:
            code = next((c for kind, c in JOIN_REFUSALS if isinstance(exc, kind)), CLOSE_FORBIDDEN)
            await self.refuse(code)
            return
        except Exception as exc:
            dependency = outage_of(exc)
            if dependency is None:
                logger.exception("Joining room %s failed", self.room_id)
                await self.refuse(CLOSE_INTERNAL_ERROR)
                return
            # The database or Redis is away: the client comes back later (room.js does).
            if dependency == "redis":
                layer_health.layer_failed(exc, f"joining room {self.room_id}")
            else:
                await purge_dead_connections()
            await self.refuse(CLOSE_TRY_AGAIN_LATER)
            return
        if state["first_socket"]:
            # Announced before the joiner gets its state: whoever connects after this socket
            # is ready will not also hear, late, that this user joined.
            await events.broadcast(
                self.room_id,
                {
                    "type": "user_joined",
                    "user_id": self.user.pk,
                    "username": self.user.username,
                    "participants_count": state["participants_count"],
                },
                exclude_user_id=self.user.pk,
            )
        await self.send_json(state["room_state"])
        self.tasks.append(asyncio.create_task(self.sync_loop()))

    async def refuse(self, code: int):
        self.finished = True
        await self.close(code)

    # --- Incoming frames ---------------------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.finished:
            return
        data = text_data if text_data is not None else bytes_data
        if data is not None and _too_big(data):
            self.finished = True
            await self.close(CLOSE_TOO_BIG)
            return
        content = None
        if text_data is not None:
            try:
                content = json.loads(text_data)
            except (ValueError, RecursionError):
                # RecursionError: nesting deeper than the parser recurses ("[[[[…", 64 KiB of
                # it fits in one frame) is bad JSON too, not a reason to drop the socket.
                content = None
            else:
                if not isinstance(content, dict):
                    content = None
        if self.awaiting_auth:
            await self.authenticate(content)
            return
        if content is None:
            await self.send_error("BAD_REQUEST", "A frame is a JSON object with a type.", None)
            return
        kind = content.get("type")
        handler = self.handlers.get(kind) if isinstance(kind, str) else None
        ref = kind if isinstance(kind, str) else None
        if handler is None:
            await self.send_error("BAD_REQUEST", "Unknown frame type.", ref)
            return
        try:
            await handler(self, content)
        except BadFrame as exc:
            await self.send_error("BAD_REQUEST", str(exc), ref)
        except (RateLimited, ServiceUnavailable) as exc:
            await self.send_error(exc.code, exc.message, ref, retry_after=exc.retry_after)
        except DomainError as exc:
            await self.send_error(exc.code, exc.message, ref)
        except Exception as exc:
            if outage_of(exc) is None:
                logger.exception("Frame %r in room %s failed", ref, self.room_id)
                await self.send_error("INTERNAL_SERVER_ERROR", "An internal error occurred.", ref)
                return
            # The database is away (Redis failures are absorbed by rooms.events): nothing
            # was done, and the client may try again shortly.
            await purge_dead_connections()
            await self.send_error(
                "SERVICE_UNAVAILABLE",
                "The room is unavailable for a moment. Try again in a few seconds.",
                ref,
                retry_after=RETRY_AFTER_SECONDS,
            )

    async def send_error(self, code: str, message: str, ref, retry_after: int | None = None):
        await self.send_json(error_frame(code, message, ref, retry_after))

    async def on_control(self, content):
        action = content["type"]
        if action == "rate":
            position, rate = None, _number(content, "rate")
        else:
            position, rate = _number(content, "position", required=action == "seek"), None
        control = {
            "room_id": self.room_id,
            "user": self.user,
            "action": action,
            "position": position,
            "rate": rate,
        }
        state = await services.playback_control_remembered(**control)
        if state is None:
            state = await playback_control(**control)
        frame = {"type": f"{action}_event", **state_fields(state), "by_user_id": self.user.pk}
        await events.broadcast(self.room_id, frame, exclude_channel=self.channel_name)

    async def on_sync_request(self, content):
        state = await current_state(room_id=self.room_id, user=self.user)
        await self.send_json({"type": "state_sync", **state})

    async def on_ping(self, content):
        _number(content, "t0")
        await self.send_json({"type": "pong", "t0": content["t0"], "server_time": time.time()})

    async def on_chat_message(self, content):
        message = content.get("message")
        client_id = content.get("client_id")
        if not isinstance(message, str):
            raise BadFrame("`message` must be a string.")
        if client_id is not None and (
            not isinstance(client_id, str) or len(client_id) > CLIENT_ID_MAX_LENGTH
        ):
            raise BadFrame(f"`client_id` must be a string of at most {CLIENT_ID_MAX_LENGTH}.")
        if not layer_health.layer_reachable():
            # Nobody would hear it: refuse before storing, so the client keeps the text.
            raise ServiceUnavailable(
                "Chat is unavailable for a moment. Try again in a few seconds.",
                retry_after=RETRY_AFTER_SECONDS,
            )
        fields = await post_chat(
            room_id=self.room_id, user=self.user, message=message, client_id=client_id
        )
        # Stored first: this event is the sender's acknowledgement, so it goes to them too.
        frame = {"type": "chat_message_event", **fields}
        if not await events.broadcast(self.room_id, frame):
            # The layer failed after the message was stored: it is acknowledged all the same
            # (straight to the sender), and the others get it in the room_state that follows
            # the outage.
            await self.send_json(frame)

    async def on_typing(self, content):
        key = f"rooms:typing:{self.room_id}:{self.user.pk}"
        try:
            if not await cache.aadd(key, 1, timeout=TYPING_THROTTLE_SECONDS):
                return  # said less than a second ago: the indicator is still showing
        except Exception as exc:
            if outage_of(exc) is None:
                raise
            return  # Redis away: a typing indicator is not worth an error
        await events.broadcast(
            self.room_id,
            {"type": "typing", "user_id": self.user.pk, "username": self.user.username},
            exclude_user_id=self.user.pk,
        )

    async def on_leave(self, content):
        outcome = await leave_room(room_id=self.room_id, user=self.user)
        self.departed = True
        if outcome["closed_room"]:
            return  # the host's socket stays open for room_closed, like everyone's
        self.finished = True
        await self.close(CLOSE_NORMAL)
        # Through room.user_left, so the user's other tabs close too.
        await events.auser_left(
            self.room_id,
            user_id=self.user.pk,
            username=self.user.username,
            participants_count=outcome["participants_count"],
        )

    async def on_auth(self, content):
        raise InvalidInput("Already authenticated.")

    handlers = {
        "play": on_control,
        "pause": on_control,
        "seek": on_control,
        "rate": on_control,
        "sync_request": on_sync_request,
        "ping": on_ping,
        "chat_message": on_chat_message,
        "typing": on_typing,
        "leave": on_leave,
        "auth": on_auth,
    }

    # --- Periodic state_sync -----------------------------------------------------------------

    async def sync_loop(self):
        """state_sync every ROOM_SYNC_INTERVAL while playing, from the database (the truth of
        every process). It also backs up the events: a socket whose room closed, or whose user
        was kicked, without it hearing so (the layer delivers at most once) is closed here, one
        tick later than the event would have, so the event keeps the race."""
        missed_end = False
        while True:
            await asyncio.sleep(settings.ROOM_SYNC_INTERVAL)
            if self.finished:
                return
            await self.resync_after_layer_outage()
            try:
                result = await shared_tick(room_id=self.room_id, user=self.user, now=time.time())
            except Exception as exc:
                # During a database outage every socket fails here: no traceback for each.
                if outage_of(exc) is None:
                    logger.exception("Periodic sync of room %s failed", self.room_id)
                else:
                    await purge_dead_connections()
                continue
            if result["gone"] is not None:
                if missed_end and not self.finished:
                    self.finished = self.departed = True
                    await self.close(result["gone"])
                    return
                missed_end = True
            elif result["state"] is not None and result["state"]["is_playing"]:
                await self.send_json({"type": "state_sync", **result["state"]})

    async def resync_after_layer_outage(self):
        """Events published while Redis was away were lost (rooms.events): once it answers
        again, this socket's client gets a fresh room_state (room.js replaces its whole view
        with it, as after a reconnect), chat history included. Asking every tick (at most one
        round trip per process and second) is also how a quiet process notices an outage."""
        reachable = layer_health.layer_reachable()
        if not reachable or not layer_health.layer_failed_since(self.synced_at):
            return
        self.synced_at = time.monotonic()
        try:
            state = await snapshot(room_id=self.room_id, user=self.user)
        except Exception:  # noqa: BLE001 - gone or unavailable: the tick below tells
            return
        if not self.finished:
            await self.send_json(state["room_state"])

    async def send(self, text_data=None, bytes_data=None, close=False):
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Disconnected:
            # The client closed while frames for it were still queued (a busy room's chat):
            # nobody is left to tell, and its disconnect is on its way.
            self.finished = True

    # --- Channel-layer events (rooms.events) -------------------------------------------------

    async def dispatch(self, message):
        if events.is_stale_for(message, subscribed_at=self.subscribed_at):
            return
        # Not super().dispatch: since channels 4.2 it first runs close_old_connections on the
        # process's one sync thread, for every frame and every event, so each socket's pong
        # and each guest's copy of a seek queued behind all the database work of the process
        # (bench/room_fanout.py, bench/idle_connections.py: seconds at a few hundred sockets).
        # Every database call here goes through database_sync_to_async, which closes stale
        # connections around itself, and websocket_disconnect still does it once.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def room_event(self, event):
        if self.finished:
            return
        if event.get("exclude_channel") == self.channel_name:
            return
        if event.get("exclude_user_id") == self.user.pk:
            return
        await self.send(text_data=event["text"])

    async def room_closed(self, event):
        if self.finished:
            return
        self.finished = self.departed = True
        await self.send_json({"type": "room_closed", "reason": event["reason"]})
        await self.close(CLOSE_ROOM_CLOSED)

    async def room_kicked(self, event):
        if self.finished:
            return
        if event["user_id"] == self.user.pk:
            self.finished = self.departed = True
            await self.send_json({"type": "kicked", "by_user_id": event["by_user_id"]})
            await self.close(CLOSE_FORBIDDEN)
            return
        await self.send_user_left(event)

    async def send_user_left(self, event) -> None:
        fields = ("user_id", "username", "participants_count")
        await self.send_json({"type": "user_left", **{field: event[field] for field in fields}})

    async def room_updated(self, event):
        if not self.finished:
            await self.send_json({"type": "room_updated", **event["changes"]})

    async def room_user_left(self, event):
        if self.finished:
            return
        if event["user_id"] == self.user.pk:
            # Left from another tab or through the REST API: this socket is no longer in.
            self.finished = self.departed = True
            await self.close(CLOSE_NORMAL)
            return
        await self.send_user_left(event)
