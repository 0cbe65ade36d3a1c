"""The site's watch-room pages: the rooms list with invitations, and the room page.

Reads go through rooms.selectors and the access policies; every write (join, chat, control,
kick, invite, settings) happens over the WebSocket or the REST API, which call the services.
"""

from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from rooms.models import CloseReason, Room, RoomBan, RoomInvitation, RoomParticipant
from rooms.policies import can_control, participant_cap, slow_mode_applies
from rooms.selectors import (
    my_rooms,
    pending_invitations,
    room_for_viewer,
    room_participants,
    rooms_visible_to,
)
from videohost.errors import NotFound
from videos.models import AccessLevel
from videos.policies import can_watch
from videos.selectors import subscription_map, viewer_for
from videos.views import format_duration, playback_sources

PAGE_SIZE = 20

# What the room page says when a room has closed; the JS (static/js/room.js) says the same.
CLOSED_MESSAGES = {
    CloseReason.HOST_LEFT: "The host ended the room.",
    CloseReason.MODERATOR: "A moderator closed this room.",
    CloseReason.HOST_TIMEOUT: "The host left and did not come back in time.",
}


@dataclass(frozen=True, slots=True)
class RoomCard:
    """One room as the rooms list shows it, with the viewer's access to its video decided."""

    room: Room
    can_watch: bool
    is_host: bool

    @property
    def duration_text(self) -> str:
        return format_duration(self.room.video.duration)

    @property
    def locked_label(self) -> str:
        if self.can_watch:
            return ""
        if self.room.video.access_level == AccessLevel.SPONSOR:
            return "Sponsors only"
        return "Subscribers only"


def room_cards(rooms, user, subscriptions: dict[int, bool]) -> list[RoomCard]:
    """Cards for rooms whose video and channel are selected; `subscriptions` comes from
    `subscription_map`, so a page of cards costs no query of its own."""
    return [
        RoomCard(
            room=room,
            can_watch=can_watch(
                access_level=room.video.access_level,
                viewer=viewer_for(user, room.video.channel, subscriptions=subscriptions),
            ),
            is_host=room.owner_id == getattr(user, "pk", None),
        )
        for room in rooms
    ]


def rooms(request: HttpRequest) -> HttpResponse:
    user = request.user
    public = rooms_visible_to(user=user).filter(is_private=False).select_related("video__channel")
    page = Paginator(public, PAGE_SIZE).get_page(request.GET.get("page"))
    subscriptions = subscription_map(user)
    mine = my_rooms(user=user).select_related("video__channel")
    context = {
        "page": page,
        "cards": room_cards(page.object_list, user, subscriptions),
        "mine": room_cards(mine, user, subscriptions),
        "invitations": list(
            pending_invitations(user=user).select_related("room__video", "room__owner")
        ),
    }
    return render(request, "rooms/list.html", context)


def _closed_room_seen_by(*, room_id: int, user) -> Room | None:
    """A closed room the caller could see while it was open, so its page can say it closed.

    Anyone else gets the plain 404 that `room_for_viewer` gives: a private room's existence
    is not revealed once it has closed either.
    """
    was_in = RoomParticipant.objects.filter(room=OuterRef("pk"), user=user)
    invited = RoomInvitation.objects.filter(room=OuterRef("pk"), invitee=user)
    return (
        Room.objects.filter(pk=room_id, is_active=False)
        .filter(Q(is_private=False) | Q(owner=user) | Q(Exists(was_in)) | Q(Exists(invited)))
        .select_related("video", "owner")
        .first()
    )


def _ended_page(request: HttpRequest, room: Room, *, kind: str, title: str, message: str):
    context = {"room": room, "video": room.video, "kind": kind, "title": title, "message": message}
    return render(request, "rooms/ended.html", context)


@login_required
def room_detail(request: HttpRequest, room_id: int) -> HttpResponse:
    user = request.user
    try:
        room = room_for_viewer(room_id=room_id, user=user)
    except NotFound:
        closed = _closed_room_seen_by(room_id=room_id, user=user)
        if closed is None:
            raise Http404("Room not found") from None
        message = CLOSED_MESSAGES.get(closed.close_reason, "This room is no longer open.")
        return _ended_page(
            request, closed, kind="closed", title="This room has closed", message=message
        )

    video = room.video
    viewer = viewer_for(user, video.channel)
    if not can_watch(access_level=video.access_level, viewer=viewer):
        audience = "sponsors" if video.access_level == AccessLevel.SPONSOR else "subscribers"
        message = f"This room watches a video for {audience} of {video.channel.title}."
        return _ended_page(
            request, room, kind="forbidden", title="You can't join this room", message=message
        )
    if RoomBan.objects.filter(room=room, user=user).exists():
        return _ended_page(
            request,
            room,
            kind="kicked",
            title="You were removed from this room",
            message="The host removed you from this room, so you cannot join it again.",
        )

    is_host = room.owner_id == user.pk
    cap = participant_cap(is_channel_owner=viewer.is_owner, is_sponsor=viewer.is_sponsor)
    context = {
        "room": room,
        "video": video,
        "is_host": is_host,
        "can_control": can_control(is_host=is_host, guests_can_control=room.guests_can_control),
        "slow_mode": slow_mode_applies(
            message_delay=room.message_delay, is_host=is_host, is_staff=user.is_staff
        ),
        "participants": room_participants(room),
        "participant_cap": cap,
        "room_url": request.build_absolute_uri(reverse("room_detail", args=[room.pk])),
        "duration_text": format_duration(video.duration),
        "sources": playback_sources(video),
    }
    return render(request, "rooms/detail.html", context)
