"""Room events sent to every socket of a room through the channel layer.

Services call the sync functions from `transaction.on_commit`, so nobody hears about a change
that was rolled back; the consumer (rooms.consumers.RoomConsumer) turns each message type into
the frame of ROOM_PROTOCOL.md. Every message shape on the layer is defined here, and the
consumer's handlers of the same names (`room.closed` → `room_closed`, …) read them.

The layer is shared by every server process (Redis in production), so an event reaches a
room's sockets whichever process serves them.
"""

import json
import time
import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from rooms.layer_health import layer_failed
from videohost.outages import outage_of

# Every message is stamped with this process's token and its monotonic send time. A layer that
# fans out locally (Redis pub/sub: one subscription per process, shared by its sockets) hands a
# socket that has just subscribed whatever its process published a moment before and had not yet
# read back; the snapshot that socket is sent already reflects such a message, and a stale
# `user_left` of the user's own could even close a socket that just rejoined. The consumer drops
# what its own process sent before it subscribed (`is_stale_for`). Another process's messages
# cannot be compared by clock, so they may still arrive twice, which clients absorb (seq,
# message_id, participants keyed by user_id).
PROCESS_TOKEN = uuid.uuid4().hex


def group_name(room_id: int) -> str:
    return f"room_{room_id}"


def connected_count(room_id: int) -> int:
    """How many people have a socket open in the room: what `participants_count` means in
    the frames, which follow presence (user_joined / user_left), not membership."""
    from rooms.selectors import present_participants

    return present_participants().filter(room_id=room_id, connections__gt=0).count()


def _stamped(message: dict) -> dict:
    return {**message, "origin": PROCESS_TOKEN, "sent_at": time.monotonic()}


def is_stale_for(message: dict, *, subscribed_at: float | None) -> bool:
    """Whether this process published `message` before a socket subscribed at `subscribed_at`."""
    return (
        subscribed_at is not None
        and message.get("origin") == PROCESS_TOKEN
        and message.get("sent_at", subscribed_at) < subscribed_at
    )


def _send(room_id: int, message: dict) -> None:
    """From services, after their transaction committed. Best-effort while Redis is away
    (rooms.layer_health): the change is in the database, and sockets resync after."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(room_id), _stamped(message))
    except Exception as exc:
        if outage_of(exc) is None:
            raise
        layer_failed(exc, f"room {room_id}'s {message['type']} event")


def room_closed(room_id: int, reason: str) -> None:
    """Everyone gets `room_closed` {reason}, then their socket closes with 4000."""
    _send(room_id, {"type": "room.closed", "reason": reason})


def user_kicked(room_id: int, *, user_id: int, by_user_id: int) -> None:
    """The kicked user's sockets get `kicked` and close with 4003; the others `user_left`."""
    from accounts.models import User

    username = User.objects.filter(pk=user_id).values_list("username", flat=True).first() or ""
    participants_count = connected_count(room_id)
    _send(
        room_id,
        {
            "type": "room.kicked",
            "user_id": user_id,
            "by_user_id": by_user_id,
            "username": username,
            "participants_count": participants_count,
        },
    )


def room_updated(room_id: int, changes: dict) -> None:
    """Everyone gets `room_updated` with the changed settings as its fields."""
    _send(room_id, {"type": "room.updated", "changes": changes})


def user_left(room_id: int, *, user_id: int, username: str, participants_count: int) -> None:
    """The user left the room (not just closed a socket): others get `user_left`, and the
    user's own remaining sockets (other tabs) close, since they are no longer in the room."""
    _send(room_id, _user_left_message(user_id, username, participants_count))


async def auser_left(room_id: int, *, user_id: int, username: str, participants_count: int) -> bool:
    """`user_left` from async code (the consumer handling a `leave` frame)."""
    return await _publish(room_id, _user_left_message(user_id, username, participants_count))


async def _publish(room_id: int, message: dict) -> bool:
    """Publish to the room's sockets; False, with the outage noted, when Redis is away."""
    try:
        await get_channel_layer().group_send(group_name(room_id), _stamped(message))
    except Exception as exc:
        if outage_of(exc) is None:
            raise
        layer_failed(exc, f"room {room_id}'s {message['type']} event")
        return False
    return True


def _user_left_message(user_id: int, username: str, participants_count: int) -> dict:
    return {
        "type": "room.user_left",
        "user_id": user_id,
        "username": username,
        "participants_count": participants_count,
    }


async def broadcast(
    room_id: int,
    frame: dict,
    *,
    exclude_channel: str | None = None,
    exclude_user_id: int | None = None,
) -> bool:
    """Send a ready-made frame to the room's sockets, optionally skipping the sender's socket
    (control events: the sender already shows the change) or all of a user's sockets (typing:
    one's own indicator is noise in a second tab). False when the layer is down (the frame is
    dropped; the sockets catch up with a fresh room_state once it is back).

    The frame travels as its JSON text, encoded once here rather than once per socket."""
    return await _publish(
        room_id,
        {
            "type": "room.event",
            "text": json.dumps(frame),
            "exclude_channel": exclude_channel,
            "exclude_user_id": exclude_user_id,
        },
    )
