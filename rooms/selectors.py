"""Reads of watch rooms that need care: visibility, participant counts without N+1, state now."""

import time

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from rooms.models import ChatMessage, InvitationStatus, Room, RoomInvitation, RoomParticipant
from rooms.sync import PlaybackState, current_position
from videohost.errors import NotFound
from videos.models import VideoStatus

OPEN_INVITATION = (InvitationStatus.PENDING, InvitationStatus.ACCEPTED)


def present_participants() -> QuerySet[RoomParticipant]:
    """Participant rows of people who are in their room now (not left, not kicked)."""
    return RoomParticipant.objects.filter(left_at__isnull=True)


def _participants_count() -> Coalesce:
    counted = (
        present_participants()
        .filter(room=OuterRef("pk"))
        .order_by()
        .values("room")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def rooms_with_counts() -> QuerySet[Room]:
    """Rooms with `participants_count` (a correlated count: one query for a whole page), the
    owner and the video."""
    return Room.objects.select_related("owner", "video").annotate(
        participants_count=_participants_count()
    )


def _listed_video() -> Q:
    # A room lives only as long as its video may be played: a video a moderator hid, or one
    # not ready, takes its rooms out of sight.
    return Q(video__status=VideoStatus.READY, video__is_hidden=False)


def _can_see_private(user) -> Q:
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    is_in = present_participants().filter(room=OuterRef("pk"), user=user)
    invited = RoomInvitation.objects.filter(
        room=OuterRef("pk"), invitee=user, status__in=OPEN_INVITATION
    )
    return Q(owner=user) | Q(Exists(is_in)) | Q(Exists(invited))


def rooms_visible_to(*, user) -> QuerySet[Room]:
    """Active rooms the caller may see: public ones, and private ones they are in or invited
    to (a pending or accepted invitation), newest first."""
    return (
        rooms_with_counts()
        .filter(_listed_video(), is_active=True)
        .filter(Q(is_private=False) | _can_see_private(user))
        .order_by("-created_at", "-id")
    )


def open_room(room_id: int) -> Room | None:
    """The room with its video while it is open and its video listed (what any participant
    may see), else None."""
    return (
        Room.objects.select_related("video")
        .filter(_listed_video(), pk=room_id, is_active=True)
        .first()
    )


def present_user_ids(room_id: int) -> set[int]:
    return set(present_participants().filter(room_id=room_id).values_list("user_id", flat=True))


def room_for_viewer(*, room_id: int, user) -> Room:
    """The room as `rooms_visible_to` shapes it, or NotFound (closed, missing, or private and
    not the caller's: its existence is not revealed)."""
    try:
        return rooms_visible_to(user=user).get(pk=room_id)
    except (Room.DoesNotExist, ValueError, TypeError):
        raise NotFound("Room not found.") from None


def my_rooms(*, user) -> QuerySet[Room]:
    """Active rooms the user is in now, newest first."""
    if not getattr(user, "is_authenticated", False):
        return Room.objects.none()
    is_in = present_participants().filter(room=OuterRef("pk"), user=user)
    return (
        rooms_with_counts()
        .filter(_listed_video(), Exists(is_in), is_active=True)
        .order_by("-created_at", "-id")
    )


def room_state(room: Room, *, now: float | None = None) -> PlaybackState:
    """The room's playback state rebased to `now` (position advanced, server_time = now).

    Equivalent to the stored state for any client, and what every reply hands out, so a
    client never has to know when the last change happened. Needs `room.video` (its duration).
    """
    now = time.time() if now is None else now
    stored = PlaybackState(
        position=room.current_position,
        is_playing=room.is_playing,
        rate=room.rate,
        server_time=room.state_updated_at.timestamp(),
        seq=room.seq,
    )
    duration = room.video.duration or None
    return PlaybackState(
        position=current_position(stored, now=now, duration=duration),
        is_playing=stored.is_playing,
        rate=stored.rate,
        server_time=now,
        seq=stored.seq,
    )


def room_participants(room: Room) -> list[RoomParticipant]:
    """The people in the room now, in order of arrival, with their users."""
    return list(
        present_participants().filter(room=room).select_related("user").order_by("joined_at", "id")
    )


def room_participants_count(room: Room | int) -> int:
    room_id = room.pk if isinstance(room, Room) else room
    return present_participants().filter(room_id=room_id).count()


def connected_participants_count(room: Room | int) -> int:
    """People in the room with a socket open: the `participants_count` of the socket frames,
    which follow presence (user_joined / user_left) rather than membership."""
    room_id = room.pk if isinstance(room, Room) else room
    return present_participants().filter(room_id=room_id, connections__gt=0).count()


def is_participant(*, room: Room | int, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    room_id = room.pk if isinstance(room, Room) else room
    return present_participants().filter(room_id=room_id, user=user).exists()


def chat_history(room: Room, *, limit: int = 50) -> list[ChatMessage]:
    """The last `limit` messages, oldest first (what a newcomer's socket receives)."""
    newest = ChatMessage.objects.filter(room=room).select_related("user").order_by("-id")[:limit]
    return list(reversed(newest))


def chat_messages(room: Room, *, before: int | None = None) -> QuerySet[ChatMessage]:
    """The room's messages newest first, optionally only those older than message `before`."""
    queryset = ChatMessage.objects.filter(room=room).select_related("user").order_by("-id")
    if before is not None:
        queryset = queryset.filter(pk__lt=before)
    return queryset


def pending_invitations(*, user) -> QuerySet[RoomInvitation]:
    """The user's unanswered invitations to rooms that are still open, newest first."""
    if not getattr(user, "is_authenticated", False):
        return RoomInvitation.objects.none()
    return (
        RoomInvitation.objects.filter(
            invitee=user, status=InvitationStatus.PENDING, room__is_active=True
        )
        .select_related("room", "inviter", "invitee")
        .order_by("-created_at", "-id")
    )
