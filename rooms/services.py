"""Every write to watch rooms: the API, the pages, the WebSocket consumer and the admin call
these, so each rule of API.md and ROOM_PROTOCOL.md is enforced in one place.

Concurrency: every service that reads a room and then writes it locks the room row first
(`_locked_room`), so joins racing for the last place and a disconnect racing the grace check
are applied one at a time. The two hot writes, playback controls and chat, read without a
lock and store with a compare-and-set instead (the room's `seq`, the sender's
`last_message_at`), worked out again when another write got there first: control frames from
two tabs are applied in turn, and the flood guard holds against a sender's racing tabs.
Events to connected sockets go out through rooms.events only once the write has committed.
"""

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorDebugWrapper
from django.db.models import Exists, F, OuterRef
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from rooms import events, policies
from rooms.models import (
    MESSAGE_DELAY_MAX,
    MESSAGE_MAX_LENGTH,
    ChatMessage,
    CloseReason,
    InvitationStatus,
    Room,
    RoomBan,
    RoomInvitation,
    RoomParticipant,
)
from rooms.selectors import OPEN_INVITATION, connected_participants_count, present_participants
from rooms.sync import ACTIONS, PlaybackState, apply_control, current_position
from videohost.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    RateLimited,
)
from videohost.loop_database import loop_connection
from videos.models import Video
from videos.policies import can_see_unlisted, can_watch
from videos.selectors import video_for_playback, viewer_for

FLOOD_MESSAGES = 5
FLOOD_WINDOW = 5  # seconds
MIN_RATE, MAX_RATE = 0.25, 4.0
MIN_PARTICIPANTS = 2
# "Any cap" for channel owners and sponsors still has to fit the column (and a browser tab).
MAX_PARTICIPANTS = 100_000
UPDATABLE = ("max_participants", "message_delay", "is_private", "guests_can_control")


class Unset:
    """The default of an argument the caller did not give (None is a meaningful value)."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET = Unset()


# --- helpers ----------------------------------------------------------------------------------


def _as_datetime(now: datetime | float | None) -> datetime:
    if now is None:
        return timezone.now()
    if isinstance(now, datetime):
        return now
    return datetime.fromtimestamp(now, tz=UTC)


def _as_timestamp(now: datetime | float | None) -> float:
    if now is None:
        return time.time()
    if isinstance(now, datetime):
        return now.timestamp()
    return float(now)


def _take_write_lock() -> None:
    """On SQLite, hold the database write lock from the start of this transaction.

    SQLite ignores SELECT … FOR UPDATE, and a transaction that reads before it writes cannot
    wait for the write lock: it fails at once with "database is locked". A write as the first
    statement waits (up to the configured timeout) instead, which serializes the services the
    way the row lock does on PostgreSQL. It changes nothing (no row has id -1).
    """
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Room._meta.db_table} SET seq = seq WHERE id = -1")  # noqa: S608


def _require_user(user) -> None:
    if not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("Log in to use watch rooms.")


def _locked_room(room_id: int, *, active: bool = True) -> Room:
    """The room row, locked until the transaction ends, with its video and channel."""
    _take_write_lock()
    try:
        room = (
            Room.objects.select_for_update(of=("self",))
            .select_related("owner", "video", "video__channel")
            .get(pk=room_id)
        )
    except (Room.DoesNotExist, ValueError, TypeError):
        raise NotFound("Room not found.") from None
    if active and not room.is_active:
        raise NotFound("This room is closed.")
    return room


def _participant(room: Room, user) -> RoomParticipant | None:
    """The user's row in the room if they are in it now."""
    if not getattr(user, "is_authenticated", False):
        return None
    return present_participants().filter(room=room, user=user).first()


# The Room columns that hold its playback state, and their mapping to and from PlaybackState:
# read and written from model instances (`_state_of`, `_store_state`) and, on the hot path of
# `playback_control`, from a values() row and a queryset update().
STATE_COLUMNS = ("current_position", "is_playing", "rate", "state_updated_at", "seq")


def _state_from(columns) -> PlaybackState:
    return PlaybackState(
        position=columns["current_position"],
        is_playing=columns["is_playing"],
        rate=columns["rate"],
        server_time=columns["state_updated_at"].timestamp(),
        seq=columns["seq"],
    )


def _state_columns(state: PlaybackState) -> dict:
    return {
        "current_position": state.position,
        "is_playing": state.is_playing,
        "rate": state.rate,
        "state_updated_at": _as_datetime(state.server_time),
        "seq": state.seq,
    }


def _state_of(room: Room) -> PlaybackState:
    return _state_from({column: getattr(room, column) for column in STATE_COLUMNS})


def _store_state(room: Room, state: PlaybackState, *, extra: tuple[str, ...] = ()) -> None:
    for column, value in _state_columns(state).items():
        setattr(room, column, value)
    room.save(update_fields=[*STATE_COLUMNS, *extra])


def _host_cap(room_video, user) -> int | None:
    viewer = viewer_for(user, room_video.channel)
    return policies.participant_cap(is_channel_owner=viewer.is_owner, is_sponsor=viewer.is_sponsor)


def _clean_max_participants(value, *, cap: int | None) -> int | None:
    field = "max_participants"
    if value is None:
        if cap is not None:
            message = f"Your rooms can have at most {cap} participants."
            raise InvalidInput(message, details={field: [message]})
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        message = "A whole number, or null for no limit."
        raise InvalidInput(f"{field}: {message}", details={field: [message]})
    if value < MIN_PARTICIPANTS:
        message = f"A room needs room for at least {MIN_PARTICIPANTS} participants."
        raise InvalidInput(f"{field}: {message}", details={field: [message]})
    if cap is not None and value > cap:
        message = f"Your rooms can have at most {cap} participants."
        raise InvalidInput(message, details={field: [message]})
    if value > MAX_PARTICIPANTS:
        message = f"At most {MAX_PARTICIPANTS}, or null for no limit."
        raise InvalidInput(f"{field}: {message}", details={field: [message]})
    return value


def _clean_message_delay(value) -> int:
    field = "message_delay"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MESSAGE_DELAY_MAX:
        message = f"Seconds from 0 to {MESSAGE_DELAY_MAX}."
        raise InvalidInput(f"{field}: {message}", details={field: [message]})
    return value


def _clean_flag(field: str, value) -> bool:
    if not isinstance(value, bool):
        message = "Must be true or false."
        raise InvalidInput(f"{field}: {message}", details={field: [message]})
    return value


def _on_commit(func, *args, **kwargs) -> None:
    # robust: a channel layer that is down must not turn a committed change into a 500.
    transaction.on_commit(partial(func, *args, **kwargs), robust=True)


# --- rooms ------------------------------------------------------------------------------------


@transaction.atomic
def room_create(
    *,
    user: User,
    video_id: int,
    max_participants: int | None | Unset = UNSET,
    message_delay: int = 0,
    is_private: bool = False,
    guests_can_control: bool = False,
) -> Room:
    _require_user(user)
    _take_write_lock()
    try:
        video, viewer = video_for_playback(user=user, video_id=video_id)
    except Http404:
        raise NotFound("Video not found.") from None
    if not video.is_listed:
        # Only its owner and staff get here (others had a 404): a room needs a playable video.
        message = "This video cannot be watched yet."
        raise InvalidInput(message, details={"video_id": [message]})
    cap = policies.participant_cap(is_channel_owner=viewer.is_owner, is_sponsor=viewer.is_sponsor)
    if isinstance(max_participants, Unset):
        max_participants = policies.default_max_participants(
            is_channel_owner=viewer.is_owner, is_sponsor=viewer.is_sponsor
        )
    else:
        max_participants = _clean_max_participants(max_participants, cap=cap)
    room = Room.objects.create(
        owner=user,
        video=video,
        max_participants=max_participants,
        message_delay=_clean_message_delay(message_delay),
        is_private=_clean_flag("is_private", is_private),
        guests_can_control=_clean_flag("guests_can_control", guests_can_control),
    )
    RoomParticipant.objects.create(room=room, user=user, joined_at=room.created_at)
    return room


@transaction.atomic
def room_update(*, room_id: int, actor: User, **changes) -> tuple[Room, dict]:
    """Change the room's settings (host only); returns the room and the fields that really
    changed, which connected sockets receive as `room_updated`."""
    _require_user(actor)
    unknown = sorted(set(changes) - set(UPDATABLE))
    if unknown:
        raise InvalidInput(
            f"Unknown setting: {', '.join(unknown)}",
            details={name: ["This setting cannot be changed."] for name in unknown},
        )
    room = _locked_room(room_id)
    if room.owner_id != actor.pk:
        if room.is_private and _participant(room, actor) is None:
            raise NotFound("Room not found.")
        raise NotAllowed("Only the host can change the room.")
    cleaned = {}
    if "max_participants" in changes:
        cleaned["max_participants"] = _clean_max_participants(
            changes["max_participants"], cap=_host_cap(room.video, actor)
        )
    if "message_delay" in changes:
        cleaned["message_delay"] = _clean_message_delay(changes["message_delay"])
    for flag in ("is_private", "guests_can_control"):
        if flag in changes:
            cleaned[flag] = _clean_flag(flag, changes[flag])
    changed = {name: value for name, value in cleaned.items() if getattr(room, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(room, name, value)
        room.save(update_fields=list(changed))
        _on_commit(events.room_updated, room.pk, dict(changed))
    return room, changed


def room_join(*, room_id: int, user: User) -> Room:
    """Enter the room (idempotent). The room row is locked, so concurrent joins count the
    places one after another and a full room never overflows."""
    # A room whose host's grace ran out while no server process was left to notice (all of
    # them restarted) is closed here, in its own transaction, before anyone can enter it.
    host_grace_expire(room_id=room_id)
    return _room_join(room_id=room_id, user=user)


@transaction.atomic
def _room_join(*, room_id: int, user: User) -> Room:
    _require_user(user)
    room = _locked_room(room_id)
    video = room.video
    viewer = viewer_for(user, video.channel)
    if not video.is_listed and not can_see_unlisted(viewer=viewer):
        raise NotFound("Room not found.")
    if not can_watch(access_level=video.access_level, viewer=viewer):
        raise NotAllowed("You cannot watch this room's video.")
    if RoomBan.objects.filter(room=room, user=user).exists():
        raise NotAllowed("You were removed from this room.")
    row = RoomParticipant.objects.filter(room=room, user=user).first()
    if row is not None and row.left_at is None:
        return room
    invitations = RoomInvitation.objects.filter(room=room, invitee=user)
    if (
        room.is_private
        and room.owner_id != user.pk
        and not invitations.filter(status__in=OPEN_INVITATION).exists()
    ):
        raise NotAllowed("This room is private: you need an invitation.")
    if room.max_participants is not None:
        inside = present_participants().filter(room=room).exclude(user=user).count()
        if inside >= room.max_participants:
            raise Conflict("Room is full")
    now = timezone.now()
    if row is None:
        RoomParticipant.objects.create(room=room, user=user, joined_at=now)
    else:
        row.left_at = None
        row.joined_at = now
        row.save(update_fields=["left_at", "joined_at"])
    invitations.filter(status=InvitationStatus.PENDING).update(
        status=InvitationStatus.ACCEPTED, responded_at=now
    )
    return room


@transaction.atomic
def room_leave(*, room_id: int, user: User, notify: bool = True) -> Room:
    """Leave the room; the host leaving closes it.

    With `notify` (the default) the room's sockets hear `user_left` once this commits; the
    consumer passes notify=False when it announces the departure itself.
    """
    _require_user(user)
    room = _locked_room(room_id)
    row = _participant(room, user)
    if row is None:
        raise NotAllowed("You are not in this room.")
    row.left_at = timezone.now()
    row.save(update_fields=["left_at"])
    if room.owner_id == user.pk:
        return room_close(room_id=room.pk, reason=CloseReason.HOST_LEFT)
    if notify:
        _on_commit(
            events.user_left,
            room.pk,
            user_id=user.pk,
            username=user.username,
            participants_count=connected_participants_count(room),
        )
    return room


@transaction.atomic
def room_close(*, room_id: int, reason: str, by: User | None = None) -> Room:
    """Close the room for good (idempotent); connected sockets hear `room_closed`."""
    if reason not in CloseReason.values:
        raise InvalidInput(f"Unknown close reason: {reason}")
    room = _locked_room(room_id, active=False)
    if by is not None and not (by.is_staff or by.pk == room.owner_id):
        raise NotAllowed("Only the host or a moderator can close the room.")
    if not room.is_active:
        return room
    now = timezone.now()
    state = _state_of(room)
    frozen = PlaybackState(
        position=current_position(state, now=now.timestamp(), duration=room.video.duration or None),
        is_playing=False,
        rate=state.rate,
        server_time=now.timestamp(),
        seq=state.seq + 1,
    )
    room.is_active = False
    room.closed_at = now
    room.close_reason = reason
    room.host_disconnected_at = None
    _store_state(
        room, frozen, extra=("is_active", "closed_at", "close_reason", "host_disconnected_at")
    )
    present_participants().filter(room=room).update(left_at=now)
    _on_commit(events.room_closed, room.pk, reason)
    return room


@transaction.atomic
def room_kick(*, room_id: int, actor: User, user_id: int) -> None:
    """The host removes someone; they are disconnected and cannot come back."""
    _require_user(actor)
    room = _locked_room(room_id)
    if room.owner_id != actor.pk:
        if room.is_private and _participant(room, actor) is None:
            raise NotFound("Room not found.")
        raise NotAllowed("Only the host can remove people.")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise InvalidInput("user_id: A user id.", details={"user_id": ["A user id."]})
    if user_id == actor.pk:
        message = "You cannot remove yourself; leave the room instead."
        raise InvalidInput(message, details={"user_id": [message]})
    # user__id, not the column: an id past 64 bits then matches nothing (the column hands it
    # to the driver, and SQLite's raises OverflowError).
    row = present_participants().filter(room=room, user__id=user_id).first()
    if row is None:
        raise NotFound("This user is not in the room.")
    row.left_at = timezone.now()
    row.save(update_fields=["left_at"])
    RoomBan.objects.get_or_create(room=room, user_id=user_id, defaults={"by": actor})
    RoomInvitation.objects.filter(
        room=room, invitee_id=user_id, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.DECLINED, responded_at=row.left_at)
    _on_commit(events.user_kicked, room.pk, user_id=user_id, by_user_id=actor.pk)


# --- invitations ------------------------------------------------------------------------------


@transaction.atomic
def room_invite(
    *, room_id: int, actor: User, user_id: int | None = None, username: str | None = None
) -> RoomInvitation:
    _require_user(actor)
    if (user_id is None) == (username is None):
        message = "Give either user_id or username."
        raise InvalidInput(message, details={"user_id": [message]})
    room = _locked_room(room_id)
    if _participant(room, actor) is None:
        invited = RoomInvitation.objects.filter(
            room=room, invitee=actor, status__in=OPEN_INVITATION
        ).exists()
        if room.is_private and not invited:
            raise NotFound("Room not found.")
        raise NotAllowed("Only people in the room can invite others.")
    people = User.objects.filter(is_active=True)
    try:
        if user_id is not None:
            invitee = people.get(pk=user_id)
        else:
            invitee = people.get(username__iexact=str(username).strip())
    except (User.DoesNotExist, ValueError, TypeError):
        raise NotFound("User not found.") from None
    if _participant(room, invitee) is not None:
        raise Conflict("This user is already in the room.")
    if RoomBan.objects.filter(room=room, user=invitee).exists():
        raise Conflict("This user was removed from the room and cannot come back.")
    pending = RoomInvitation.objects.filter(
        room=room, invitee=invitee, status=InvitationStatus.PENDING
    )
    if pending.exists():
        raise Conflict("This user is already invited.")
    try:
        with transaction.atomic():
            return RoomInvitation.objects.create(room=room, inviter=actor, invitee=invitee)
    except IntegrityError:
        raise Conflict("This user is already invited.") from None


def _pending_invitation_of(*, invitation_id: int, user: User) -> RoomInvitation:
    try:
        return RoomInvitation.objects.select_for_update().get(
            pk=invitation_id, invitee=user, status=InvitationStatus.PENDING
        )
    except (RoomInvitation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Invitation not found.") from None


@transaction.atomic
def invitation_accept(*, invitation_id: int, user: User) -> Room:
    """Join the room of a pending invitation (errors as for `room_join`)."""
    _require_user(user)
    _take_write_lock()
    invitation = _pending_invitation_of(invitation_id=invitation_id, user=user)
    room = room_join(room_id=invitation.room_id, user=user)
    # room_join marked it accepted; the row here is stale.
    invitation.refresh_from_db(fields=["status", "responded_at"])
    return room


@transaction.atomic
def invitation_decline(*, invitation_id: int, user: User) -> None:
    _require_user(user)
    _take_write_lock()
    invitation = _pending_invitation_of(invitation_id=invitation_id, user=user)
    invitation.status = InvitationStatus.DECLINED
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["status", "responded_at"])


# --- chat -------------------------------------------------------------------------------------


def _refuse_unstorable(field: str, value: str) -> None:
    """NUL and lone surrogates (JSON's "\\u0000", "\\ud800") cannot be stored as text:
    PostgreSQL refuses NUL and no database encodes a lone surrogate, so they are bad input,
    not a failed write (DRF's CharField refuses both the same way)."""
    if "\x00" in value:
        detail = "Null characters are not allowed."
    elif any("\ud800" <= char <= "\udfff" for char in value):
        detail = "Surrogate characters are not allowed."
    else:
        return
    raise InvalidInput(f"{field}: {detail}", details={field: [detail]})


def chat_post(
    *,
    room_id: int,
    user: User,
    message: str,
    client_id: str | None = None,
    now: datetime | float | None = None,
) -> ChatMessage:
    """Store a chat message (the consumer broadcasts it only after this returns).

    Not one transaction on PostgreSQL: the message and the sender's row are written by one
    statement, which is its own transaction, after a read that needs none (see `_chat_store`).
    """
    _require_user(user)
    if not isinstance(message, str):
        raise InvalidInput("message: Must be text.", details={"message": ["Must be text."]})
    text = message.strip()
    if not text:
        raise InvalidInput("The message is empty.", details={"message": ["The message is empty."]})
    if len(text) > MESSAGE_MAX_LENGTH:
        detail = f"At most {MESSAGE_MAX_LENGTH} characters."
        raise InvalidInput(f"message: {detail}", details={"message": [detail]})
    if client_id is not None and (not isinstance(client_id, str) or len(client_id) > 64):
        detail = "A string of at most 64 characters."
        raise InvalidInput(f"client_id: {detail}", details={"client_id": [detail]})
    for field, value in (("message", text), ("client_id", client_id or "")):
        _refuse_unstorable(field, value)
    # Checked, then stored only if the sender's row still says what the check read (below):
    # a failed store means another of the sender's messages (a second tab) was stored in
    # between, so the rules are read again, at a new time. Each failure is a message stored,
    # and the flood guard stops those within a few rounds.
    with _serialized_unless_postgresql():
        for _attempt in range(FLOOD_MESSAGES + 2):
            since = _as_datetime(now) - timedelta(seconds=FLOOD_WINDOW)
            facts = _chat_facts(room_id=room_id, user_id=user.pk, since=since)
            # Timed after the read: a message another tab stored before it is then the older
            # one, and the sender's row keeps the time of their newest message.
            at = _as_datetime(now)
            _chat_check(facts, user=user, at=at)
            message_id = _chat_store(
                facts, room_id=room_id, user_id=user.pk, text=text, client_id=client_id, at=at
            )
            if message_id is not None:
                saved = ChatMessage.from_db(
                    connection.alias,
                    ["id", "room_id", "user_id", "message", "client_id", "created_at"],
                    [message_id, room_id, user.pk, text, client_id or "", at],
                )
                saved.user = user
                return saved
    raise RateLimited("You are sending messages too fast.", retry_after=1)


# Chat is the hot write: a busy room stores hundreds of messages a second, each acknowledged
# only once it is durable. Through the ORM a message cost ~2.1 ms of Python and six round
# trips (lock, flood query, insert, update, BEGIN, COMMIT); on PostgreSQL it is now two
# statements in autocommit, ~0.3 ms of Python (bench/chat.py). The row lock is replaced by a
# compare-and-set: the store's UPDATE of the sender's participant row only matches if
# `last_message_at` is still what the check read, and every stored message changes it, so a
# message checked against a stale count cannot be stored. Other databases (SQLite in
# development and `make test`) run the same rules through the ORM, one writer at a time.


@dataclass(frozen=True)
class _ChatFacts:
    room_active: bool  # False for a room that does not exist, too
    message_delay: int
    owner_id: int | None
    participant_id: int | None
    last_message_at: datetime | None
    recent: Sequence[datetime]  # the sender's messages in the flood window, newest first


_NO_ROOM = _ChatFacts(False, 0, None, None, None, ())


def _prepared_cursor():
    """A cursor for the hot statements (chat and controls, PostgreSQL only): each is planned
    once per database connection, then only executed.

    Django's cursors bind parameters on the client, which rules out prepared statements, and
    planning was most of what these statements cost the server: a control's read took 0.9 ms
    from Python, 0.2 ms prepared. So these few use psycopg's server-side binding, which
    prepares a statement the first time it runs on a connection (`prepare_threshold` in
    settings.py); every other query keeps Django's client-side cursor. Wrapped like Django's
    own cursors: database errors arrive as django.db errors, and tests can count queries.
    """
    from django.db.backends.postgresql.base import ServerBindingCursor  # needs psycopg

    connection.validate_thread_sharing()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = ServerBindingCursor(connection.connection)
    if connection.queries_logged:
        return _PreparedDebugCursor(cursor, connection)
    return connection.make_cursor(cursor)


class _PreparedDebugCursor(CursorDebugWrapper):
    """Django's query log (DEBUG, tests counting queries) takes a statement's text from what
    psycopg last sent, and psycopg keeps none for a prepared statement: it would log None.
    Logged as written instead, parameters beside it."""

    def execute(self, sql, params=None):
        with self.debug_sql(sql, params):
            return super(CursorDebugWrapper, self).execute(sql, params)


def _serialized_unless_postgresql():
    """The hot writes (chat, controls) check, then store with a compare-and-set; on PostgreSQL
    in autocommit. Elsewhere (SQLite) the ORM runs the same steps one writer at a time."""
    if connection.vendor == "postgresql":
        return nullcontext()
    return _serialized_transaction()


@contextmanager
def _serialized_transaction():
    with transaction.atomic():
        _take_write_lock()
        yield


_CHAT_FACTS_SQL = f"""
    SELECT r.is_active, r.message_delay, r.owner_id, p.id, p.last_message_at,
        ARRAY(
            SELECT m.created_at FROM {ChatMessage._meta.db_table} m
            WHERE m.room_id = r.id AND m.user_id = %(user)s AND m.created_at > %(since)s
            ORDER BY m.created_at DESC LIMIT {FLOOD_MESSAGES}
        )
    FROM {Room._meta.db_table} r
    LEFT JOIN {RoomParticipant._meta.db_table} p
        ON p.room_id = r.id AND p.user_id = %(user)s AND p.left_at IS NULL
    WHERE r.id = %(room)s
"""  # noqa: S608 - table names from the models, values as parameters

# FOR KEY SHARE: the room row is locked before the sender's row, in the order every
# transaction that changes a participant takes them (leave, removal, a socket closing: the room
# FOR UPDATE, then the row). Without it the message's foreign key took the room's lock after
# the sender's row, and a message sent while its sender left or closed another tab deadlocked
# with that transaction (found by rooms/tests/test_room_life_fuzzing.py): one of the two
# failed as a database outage. Now the message waits for the other to commit, then finds the
# row changed and is refused or stored by the usual compare-and-set.
_CHAT_STORE_SQL = f"""
    WITH claimed AS (
        UPDATE {RoomParticipant._meta.db_table} SET last_message_at = %(at)s
        WHERE id = %(participant)s AND left_at IS NULL
            AND last_message_at IS NOT DISTINCT FROM %(seen)s
            AND EXISTS (
                SELECT 1 FROM {Room._meta.db_table} WHERE id = %(room)s AND is_active
                FOR KEY SHARE
            )
        RETURNING room_id
    )
    INSERT INTO {ChatMessage._meta.db_table} (room_id, user_id, message, client_id, created_at)
    SELECT room_id, %(user)s, %(message)s, %(client_id)s, %(at)s FROM claimed
    RETURNING id
"""  # noqa: S608 - table names from the models, values as parameters


def _chat_facts(*, room_id: int, user_id: int, since: datetime) -> _ChatFacts:
    if connection.vendor == "postgresql":
        with _prepared_cursor() as cursor:
            cursor.execute(_CHAT_FACTS_SQL, {"room": room_id, "user": user_id, "since": since})
            row = cursor.fetchone()
        return _NO_ROOM if row is None else _ChatFacts(*row)
    room = Room.objects.filter(pk=room_id).values("is_active", "message_delay", "owner_id").first()
    if room is None:
        return _NO_ROOM
    participant = (
        present_participants()
        .filter(room_id=room_id, user_id=user_id)
        .values("pk", "last_message_at")
        .first()
    ) or {"pk": None, "last_message_at": None}
    recent = list(
        ChatMessage.objects.filter(room_id=room_id, user_id=user_id, created_at__gt=since)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:FLOOD_MESSAGES]
    )
    return _ChatFacts(
        room["is_active"],
        room["message_delay"],
        room["owner_id"],
        participant["pk"],
        participant["last_message_at"],
        recent,
    )


def _chat_check(facts: _ChatFacts, *, user: User, at: datetime) -> None:
    if not facts.room_active:
        raise NotFound("This room is closed.")
    if facts.participant_id is None:
        raise NotAllowed("You are not in this room.")
    delay = facts.message_delay
    slow = policies.slow_mode_applies(
        message_delay=delay, is_host=facts.owner_id == user.pk, is_staff=user.is_staff
    )
    if slow and facts.last_message_at is not None:
        wait = delay - (at - facts.last_message_at).total_seconds()
        if wait > 0:
            raise RateLimited(
                f"Slow mode: wait {math.ceil(wait)} s before your next message.",
                retry_after=math.ceil(wait),
            )
    window_start = at - timedelta(seconds=FLOOD_WINDOW)
    # The read's window began a moment before this one: what left the window since is out.
    recent = [created_at for created_at in facts.recent if created_at > window_start]
    if len(recent) >= FLOOD_MESSAGES:
        wait = (recent[-1] - window_start).total_seconds()
        raise RateLimited("You are sending messages too fast.", retry_after=math.ceil(wait))


def _chat_store(
    facts: _ChatFacts, *, room_id: int, user_id: int, text: str, client_id: str | None, at: datetime
) -> int | None:
    """The new message's id, or None when the sender's row changed since `facts` was read."""
    if connection.vendor == "postgresql":
        with _prepared_cursor() as cursor:
            cursor.execute(
                _CHAT_STORE_SQL,
                {
                    "at": at,
                    "participant": facts.participant_id,
                    "seen": facts.last_message_at,
                    "room": room_id,
                    "user": user_id,
                    "message": text,
                    "client_id": client_id or "",
                },
            )
            row = cursor.fetchone()
        return None if row is None else row[0]
    claimed = (
        present_participants()
        .filter(pk=facts.participant_id, last_message_at=facts.last_message_at)
        .filter(room__is_active=True)
        .update(last_message_at=at)
    )
    if not claimed:
        return None
    return ChatMessage.objects.create(
        room_id=room_id, user_id=user_id, message=text, client_id=client_id or "", created_at=at
    ).pk


# --- playback ---------------------------------------------------------------------------------


def _clean_position(position, *, duration: float) -> float:
    if isinstance(position, bool) or not isinstance(position, int | float):
        raise InvalidInput(
            "position: Must be a number.", details={"position": ["Must be a number."]}
        )
    position = float(position)
    if not math.isfinite(position) or position < 0 or (duration > 0 and position > duration):
        detail = f"A number of seconds from 0 to {duration:g}."
        raise InvalidInput(f"position: {detail}", details={"position": [detail]})
    return position


def _clean_rate(rate) -> float:
    detail = f"A speed from {MIN_RATE:g} to {MAX_RATE:g}."
    if isinstance(rate, bool) or not isinstance(rate, int | float):
        raise InvalidInput(f"rate: {detail}", details={"rate": [detail]})
    rate = float(rate)
    if not math.isfinite(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise InvalidInput(f"rate: {detail}", details={"rate": [detail]})
    return rate


# A control is the room's hottest write: every play, pause and seek of every room, each
# fanned out to its guests only once it is stored. It reads just what the rules need and
# stores with one statement, only if the room's `seq` is still the one read (a compare-and-set
# in place of the room lock: a control that lost the race is worked out again from the state
# that won). On PostgreSQL both are raw SQL in autocommit: 0.9 ms a seek against 2.4 through
# the ORM in a locked transaction (and 7.7 with the full models, docs/PERFORMANCE.md).
_CONTROL_FIELDS = (*STATE_COLUMNS, "owner_id", "guests_can_control", "is_active", "video__duration")
# Controls of several people racing each other: each lost round is another control stored.
CONTROL_ATTEMPTS = 10


def playback_control(
    *,
    room_id: int,
    user: User,
    action: str,
    position: float | None = None,
    rate: float | None = None,
    now: float | None = None,
) -> PlaybackState:
    """Play, pause, seek or change the speed; returns the new state (seq grown by one).

    Not one transaction on PostgreSQL: the one write is one statement (`_control_store`)."""
    _require_user(user)
    if action not in ACTIONS:
        detail = f"One of {', '.join(ACTIONS)}."
        raise InvalidInput(f"action: {detail}", details={"action": [detail]})
    with _serialized_unless_postgresql():
        room = _last_controls.get(room_id, user.pk)
        for _attempt in range(CONTROL_ATTEMPTS):
            if room is None:
                room = _control_facts(room_id=room_id, user_id=user.pk)
            # Timed after the read: the state it read (maybe another tab's control, stored a
            # moment ago) is then never newer than the one worked out from it.
            at = _as_timestamp(now)
            new = _control_apply(
                room, user=user, action=action, position=position, rate=rate, at=at
            )
            if _control_store(room_id=room_id, user_id=user.pk, seen=room, state=new):
                _last_controls.remember(room_id, user.pk, {**room, **_state_columns(new)})
                return new
            room = None
            _last_controls.forget(room_id, user.pk)
    raise Conflict("Other controls were applied at the same moment. Try again.")


async def playback_control_remembered(
    *,
    room_id: int,
    user: User,
    action: str,
    position: float | None = None,
    rate: float | None = None,
) -> PlaybackState | None:
    """`playback_control` without leaving the event loop, for a controller whose last control
    this process stored: the store alone, on the loop's own connection
    (videohost.loop_database). None when that cannot settle it — nothing remembered, not
    PostgreSQL, the connection not up or failing, the remembered facts gone stale, or a control
    the facts refuse — and the caller then runs `playback_control`, which reads afresh and
    gives the answer (or the error) with authority."""
    if action not in ACTIONS or not getattr(user, "is_authenticated", False):
        return None
    store = loop_connection()
    if store is None:
        return None
    seen = _last_controls.get(room_id, user.pk)
    if seen is None:
        store.warm()  # for this controller's next control
        return None
    try:
        new = _control_apply(
            seen, user=user, action=action, position=position, rate=rate, at=time.time()
        )
    except DomainError:
        return None
    stored = await store.execute(
        _CONTROL_STORE_SQL, _control_store_params(room_id, user.pk, seen, new)
    )
    if stored != 1:
        if stored == 0:
            _last_controls.forget(room_id, user.pk)
        return None
    _last_controls.remember(room_id, user.pk, {**seen, **_state_columns(new)})
    return new


class _LastControls:
    """What this process read and stored at each controller's last control in a room, so that
    their next control can skip the read.

    Safe because the store is a compare-and-set on every fact the decision used that can
    change: the state (its `seq`), `guests_can_control`, `is_active` and the controller's
    presence. When any changed since (a control from another process or tab, a settings
    change, a leave, the room closing), the store changes nothing, and the control is worked
    out again from a fresh read. The rest (the owner, the video's duration) never changes for
    a room. A host seeking again and again, the common case, reads nothing after the first
    seek: at N = 10 the read was a fifth of a seek's fan-out delay (docs/PERFORMANCE.md).
    """

    KEPT = 1024  # rooms × controllers; the least recently used go first

    def __init__(self) -> None:
        self._facts: OrderedDict[tuple[int, int], dict] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, room_id: int, user_id: int) -> dict | None:
        with self._lock:
            facts = self._facts.get((room_id, user_id))
            if facts is not None:
                self._facts.move_to_end((room_id, user_id))
            return facts

    def remember(self, room_id: int, user_id: int, facts: dict) -> None:
        with self._lock:
            self._facts[(room_id, user_id)] = facts
            self._facts.move_to_end((room_id, user_id))
            while len(self._facts) > self.KEPT:
                self._facts.popitem(last=False)

    def forget(self, room_id: int, user_id: int) -> None:
        with self._lock:
            self._facts.pop((room_id, user_id), None)

    def clear(self) -> None:
        with self._lock:
            self._facts.clear()


_last_controls = _LastControls()


def _control_apply(room: dict | None, *, user: User, action: str, position, rate, at: float):
    if room is None:
        raise NotFound("Room not found.")
    if not room["is_active"]:
        raise NotFound("This room is closed.")
    if not room["present"]:
        raise NotAllowed("You are not in this room.")
    if not policies.can_control(
        is_host=room["owner_id"] == user.pk, guests_can_control=room["guests_can_control"]
    ):
        raise NotAllowed("Only the host can control playback.")
    duration = room["video__duration"] or 0.0
    if action == "rate":
        rate = _clean_rate(rate)
        position = None
    elif action == "seek" and position is None:
        raise InvalidInput("position: Required.", details={"position": ["Required."]})
    elif position is not None:
        position = _clean_position(position, duration=duration)
    return apply_control(
        _state_from(room),
        action=action,
        now=at,
        position=position,
        rate=rate,
        duration=duration or None,
    )


_CONTROL_FACTS_SQL = f"""
    SELECT {", ".join(f"r.{column}" for column in STATE_COLUMNS)},
        r.owner_id, r.guests_can_control, r.is_active, v.duration,
        EXISTS (
            SELECT 1 FROM {RoomParticipant._meta.db_table} p
            WHERE p.room_id = r.id AND p.user_id = %(user)s AND p.left_at IS NULL
        )
    FROM {Room._meta.db_table} r JOIN {Video._meta.db_table} v ON v.id = r.video_id
    WHERE r.id = %(room)s
"""  # noqa: S608 - table and column names from the code, values as parameters

# The store's commit returns before its WAL reaches the disk (`set_config(…, true)` is SET
# LOCAL for the statement's own transaction; pg_stat_wal: 8 WAL flushes for 2,000 seeks with
# it, 1,232 without). For playback state only: the room's sockets have the new state the
# moment it is broadcast, so a crash of the database server (not a clean restart) can cost at
# most the last fraction of a second of seeks, and pages that applied a lost one catch up at
# their next `sync_request` (docs/OPERATIONS.md). The wait it saves is a disk flush before any
# guest hears a seek: with it, fan-out runs had single seeks of 99–220 ms; without, none past
# 30 ms (docs/PERFORMANCE.md). Chat keeps full durability: an acknowledged message is a
# promise that it is stored.
_CONTROL_STORE_SQL = f"""
    WITH quick_commit AS (SELECT set_config('synchronous_commit', 'off', true))
    UPDATE {Room._meta.db_table}
    SET {", ".join(f"{column} = %({column})s" for column in STATE_COLUMNS)}
    WHERE id = %(room)s AND seq = %(seen_seq)s AND is_active
        AND guests_can_control = %(seen_guests_can_control)s
        AND EXISTS (
            SELECT 1 FROM {RoomParticipant._meta.db_table}
            WHERE room_id = %(room)s AND user_id = %(user)s AND left_at IS NULL
        )
        AND EXISTS (SELECT 1 FROM quick_commit)
"""  # noqa: S608 - table and column names from the code, values as parameters


def _control_facts(*, room_id: int, user_id: int) -> dict | None:
    if connection.vendor == "postgresql":
        if not isinstance(room_id, int):
            return None
        with _prepared_cursor() as cursor:
            cursor.execute(_CONTROL_FACTS_SQL, {"room": room_id, "user": user_id})
            row = cursor.fetchone()
        return None if row is None else dict(zip(_CONTROL_FIELDS + ("present",), row, strict=True))
    try:
        return (
            Room.objects.filter(pk=room_id)
            .annotate(
                present=Exists(present_participants().filter(room=OuterRef("pk"), user_id=user_id))
            )
            .values(*_CONTROL_FIELDS, "present")
            .first()
        )
    except (ValueError, TypeError):
        return None


def _control_store(*, room_id: int, user_id: int, seen: dict, state: PlaybackState) -> bool:
    """Whether the state was stored: False when the room changed since `seen` was read
    (another control, a settings change, or it closed, or the user left: the next read says
    which)."""
    if connection.vendor == "postgresql":
        with _prepared_cursor() as cursor:
            cursor.execute(_CONTROL_STORE_SQL, _control_store_params(room_id, user_id, seen, state))
            return cursor.rowcount == 1
    still = Room.objects.filter(
        pk=room_id, seq=seen["seq"], guests_can_control=seen["guests_can_control"], is_active=True
    ).filter(Exists(present_participants().filter(room=OuterRef("pk"), user_id=user_id)))
    return bool(still.update(**_state_columns(state)))


def _control_store_params(room_id: int, user_id: int, seen: dict, state: PlaybackState) -> dict:
    return {
        **_state_columns(state),
        "room": room_id,
        "user": user_id,
        "seen_seq": seen["seq"],
        "seen_guests_can_control": seen["guests_can_control"],
    }


# --- presence ---------------------------------------------------------------------------------


@transaction.atomic
def participant_connected(*, room_id: int, user: User) -> Room:
    """A socket of a participant opened (after `room_join`)."""
    _require_user(user)
    room = _locked_room(room_id)
    updated = (
        present_participants().filter(room=room, user=user).update(connections=F("connections") + 1)
    )
    if not updated:
        raise NotAllowed("You are not in this room.")
    if room.owner_id == user.pk and room.host_disconnected_at is not None:
        room.host_disconnected_at = None
        room.save(update_fields=["host_disconnected_at"])
    return room


@transaction.atomic
def participant_disconnected(
    *, room_id: int, user: User, now: datetime | float | None = None
) -> tuple[Room, bool]:
    """A socket closed. Returns (room, host_went_away): True when that was the host's last
    socket in an open room, which pauses playback and starts the grace period."""
    room = _locked_room(room_id, active=False)
    if not getattr(user, "is_authenticated", False):
        return room, False
    row = RoomParticipant.objects.filter(room=room, user=user).first()
    if row is None:
        return room, False
    row.connections = max(0, row.connections - 1)
    row.save(update_fields=["connections"])
    if not (room.is_active and room.owner_id == user.pk and row.connections == 0):
        return room, False
    at = _as_timestamp(now)
    state = _state_of(room)
    paused = PlaybackState(
        position=current_position(state, now=at, duration=room.video.duration or None),
        is_playing=False,
        rate=state.rate,
        server_time=at,
        seq=state.seq + 1,
    )
    room.host_disconnected_at = _as_datetime(now if now is not None else at)
    _store_state(room, paused, extra=("host_disconnected_at",))
    return room, True


@transaction.atomic
def host_grace_expire(*, room_id: int, now: datetime | float | None = None) -> bool:
    """Close the room if its host has been gone longer than ROOM_HOST_GRACE_SECONDS."""
    try:
        room = _locked_room(room_id)
    except NotFound:
        return False
    if room.host_disconnected_at is None:
        return False
    host_sockets = (
        RoomParticipant.objects.filter(room=room, user_id=room.owner_id)
        .values_list("connections", flat=True)
        .first()
    )
    if host_sockets:
        return False
    away = (_as_datetime(now) - room.host_disconnected_at).total_seconds()
    if away < settings.ROOM_HOST_GRACE_SECONDS:
        return False
    room_close(room_id=room.pk, reason=CloseReason.HOST_TIMEOUT)
    return True


def host_grace_expire_all(*, now: datetime | float | None = None) -> int:
    """Close every room whose host's grace period ran out; for a periodic job, which covers
    the case of a server process that died before its own grace timer fired."""
    at = _as_datetime(now)
    cutoff = at - timedelta(seconds=settings.ROOM_HOST_GRACE_SECONDS)
    candidates = Room.objects.filter(
        is_active=True, host_disconnected_at__isnull=False, host_disconnected_at__lte=cutoff
    ).values_list("pk", flat=True)
    return sum(host_grace_expire(room_id=room_id, now=at) for room_id in list(candidates))


# --- moderation -------------------------------------------------------------------------------


@transaction.atomic
def chat_messages_delete(*, message_ids: list[int], moderator: User) -> int:
    """A moderator removes chat messages (the admin's delete); returns how many went."""
    if not (moderator.is_active and moderator.is_staff):
        raise NotAllowed("Only moderators can delete chat messages.")
    _take_write_lock()
    deleted, _ = ChatMessage.objects.filter(pk__in=message_ids).delete()
    return deleted
