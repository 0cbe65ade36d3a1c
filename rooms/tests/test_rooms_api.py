"""The watch-room endpoints of API.md: every row, its success and its refusals."""

import asyncio
import threading
from datetime import timedelta

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from rooms import services
from rooms.models import ChatMessage, InvitationStatus, Room, RoomInvitation, RoomParticipant
from videohost.testing import UserFactory, VideoFactory, assert_error_envelope
from videos.models import AccessLevel

ONE_AND_A_HALF = timedelta(seconds=1.5)
PUBLIC_USER_FIELDS = {"id", "username", "display_name", "avatar_url", "is_author"}
ROOM_FIELDS = {
    "id",
    "owner",
    "video",
    "max_participants",
    "message_delay",
    "is_private",
    "guests_can_control",
    "is_active",
    "participants_count",
    "created_at",
    "state",
}


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, title="Sunset timelapse", duration=3.0)


@pytest.fixture
def sponsor_video(channel):
    return VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR, duration=3.0)


@pytest.fixture
def room(viewer, video):
    """Victor (a regular host: cap 10) hosts a public room on Alice's public video."""
    return services.room_create(user=viewer, video_id=video.pk)


@pytest.fixture
def private_room(viewer, video):
    return services.room_create(user=viewer, video_id=video.pk, is_private=True)


class RoomListener:
    """A real channel in the room's group of the real channel layer: hears what sockets hear.

    All its layer calls run on one event loop of its own, in a thread, as a server process's
    would: Redis pub/sub subscriptions belong to the loop that made them, so a channel created
    on one `async_to_sync` loop could not be read on the next.
    """

    def __init__(self, room_id: int) -> None:
        self.layer = get_channel_layer()
        self.group = f"room_{room_id}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.channel = self._run(self.layer.new_channel())
        self._run(self.layer.group_add(self.group, self.channel))

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=10)

    def received(self) -> list[dict]:
        async def drain() -> list[dict]:
            messages = []
            while True:
                try:
                    message = await asyncio.wait_for(self.layer.receive(self.channel), 0.2)
                    messages.append(
                        # The delivery stamp (rooms.events._stamped) is transport, not content.
                        {k: v for k, v in message.items() if k not in ("origin", "sent_at")}
                    )
                except TimeoutError:
                    return messages

        try:
            return self._run(drain())
        finally:
            self._run(self.layer.group_discard(self.group, self.channel))
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
            self.loop.close()


@pytest.fixture
def room_events():
    return lambda room: RoomListener(room.pk)


def url(path: str) -> str:
    return f"/api/{path}"


def participants_of(room: Room) -> set[str]:
    return set(
        RoomParticipant.objects.filter(room=room, left_at__isnull=True).values_list(
            "user__username", flat=True
        )
    )


# --- POST /api/rooms --------------------------------------------------------------------------


def test_a_viewer_opens_a_room_and_is_its_first_participant(client_for, viewer, video):
    response = client_for(viewer).post(url("rooms"), {"video_id": video.pk}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == ROOM_FIELDS | {"participants"}
    assert set(body["owner"]) == PUBLIC_USER_FIELDS
    assert body["owner"]["username"] == "victor"
    assert body["video"] == {
        "id": video.pk,
        "title": "Sunset timelapse",
        "duration": 3.0,
        "thumbnail_url": None,
    }
    assert body["max_participants"] == settings.ROOM_DEFAULT_MAX_PARTICIPANTS == 10
    assert (body["message_delay"], body["is_private"], body["is_active"]) == (0, False, True)
    assert body["participants_count"] == 1
    assert set(body["state"]) == {"position", "is_playing", "rate", "server_time"}
    assert body["state"]["position"] == 0.0 and body["state"]["is_playing"] is False
    assert [(p["user"]["username"], p["is_host"]) for p in body["participants"]] == [
        ("victor", True)
    ]


def test_anonymous_visitors_cannot_open_a_room(client_for, video):
    response = client_for(None).post(url("rooms"), {"video_id": video.pk}, format="json")
    assert_error_envelope(response, 401, "UNAUTHORIZED")


def test_a_room_on_an_unknown_video_is_not_found(client_for, viewer, db):
    response = client_for(viewer).post(url("rooms"), {"video_id": 999_999}, format="json")
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_a_hidden_video_cannot_get_a_room(client_for, viewer, channel):
    hidden = VideoFactory(channel=channel, is_hidden=True)
    response = client_for(viewer).post(url("rooms"), {"video_id": hidden.pk}, format="json")
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_a_viewer_cannot_open_a_room_on_a_video_they_cannot_watch(
    client_for, subscriber, sponsor_video
):
    response = client_for(subscriber).post(
        url("rooms"), {"video_id": sponsor_video.pk}, format="json"
    )
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert not Room.objects.exists()


def test_a_regular_host_cannot_set_a_cap_above_ten(client_for, viewer, video):
    response = client_for(viewer).post(
        url("rooms"), {"video_id": video.pk, "max_participants": 11}, format="json"
    )
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert "max_participants" in error["details"]


def test_a_regular_host_cannot_open_an_unlimited_room(client_for, viewer, video):
    response = client_for(viewer).post(
        url("rooms"), {"video_id": video.pk, "max_participants": None}, format="json"
    )
    assert_error_envelope(response, 400, "BAD_REQUEST")


def test_a_regular_host_may_choose_a_smaller_cap(client_for, viewer, video):
    response = client_for(viewer).post(
        url("rooms"), {"video_id": video.pk, "max_participants": 4}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["max_participants"] == 4


@pytest.mark.parametrize("persona", ["author", "sponsor"])
def test_the_channel_owner_and_its_sponsors_get_unlimited_rooms_by_default(
    client_for, request, persona, video
):
    response = client_for(request.getfixturevalue(persona)).post(
        url("rooms"), {"video_id": video.pk}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["max_participants"] is None


@pytest.mark.parametrize("persona", ["author", "sponsor"])
def test_the_channel_owner_and_its_sponsors_may_set_any_cap(client_for, request, persona, video):
    response = client_for(request.getfixturevalue(persona)).post(
        url("rooms"), {"video_id": video.pk, "max_participants": 500}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["max_participants"] == 500


def test_a_subscriber_who_does_not_sponsor_has_the_regular_cap(client_for, subscriber, video):
    response = client_for(subscriber).post(
        url("rooms"), {"video_id": video.pk, "max_participants": 11}, format="json"
    )
    assert_error_envelope(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    "body, field",
    [
        ({}, "video_id"),
        ({"video_id": "abc"}, "video_id"),
        ({"video_id": 1, "message_delay": 3601}, "message_delay"),
        ({"video_id": 1, "message_delay": -1}, "message_delay"),
        ({"video_id": 1, "max_participants": 1}, "max_participants"),
        ({"video_id": 1, "is_private": "maybe"}, "is_private"),
    ],
)
def test_invalid_room_settings_are_refused_field_by_field(client_for, viewer, video, body, field):
    body = {**body, "video_id": video.pk} if body.get("video_id") == 1 else body
    response = client_for(viewer).post(url("rooms"), body, format="json")
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert field in error["details"]


def test_the_room_paths_also_work_with_a_trailing_slash(client_for, viewer, video):
    client = client_for(viewer)
    created = client.post(url("rooms/"), {"video_id": video.pk}, format="json")
    assert created.status_code == 201
    room_id = created.json()["id"]
    assert client.get(url(f"rooms/{room_id}/")).status_code == 200
    assert client.post(url(f"rooms/{room_id}/join/")).status_code == 200


# --- GET /api/rooms ---------------------------------------------------------------------------


def test_the_list_shows_public_rooms_to_everyone_and_private_ones_to_those_inside_or_invited(
    client_for, viewer, subscriber, stranger, author, video
):
    public = services.room_create(user=viewer, video_id=video.pk)
    private = services.room_create(user=subscriber, video_id=video.pk, is_private=True)
    services.room_invite(room_id=private.pk, actor=subscriber, user_id=stranger.pk)
    closed = services.room_create(user=author, video_id=video.pk)
    services.room_close(room_id=closed.pk, reason="moderator")

    def listed(user) -> set[int]:
        response = client_for(user).get(url("rooms"))
        assert response.status_code == 200
        return {room["id"] for room in response.json()["results"]}

    assert listed(None) == {public.pk}
    assert listed(viewer) == {public.pk}
    assert listed(subscriber) == {public.pk, private.pk}
    assert listed(stranger) == {public.pk, private.pk}


def test_the_list_is_newest_first_with_participant_counts(client_for, viewer, subscriber, video):
    older = services.room_create(user=viewer, video_id=video.pk)
    services.room_join(room_id=older.pk, user=subscriber)
    newer = services.room_create(user=subscriber, video_id=video.pk)
    results = client_for(None).get(url("rooms")).json()["results"]
    assert [(r["id"], r["participants_count"]) for r in results] == [(newer.pk, 1), (older.pk, 2)]


def test_the_list_costs_the_same_queries_for_one_room_and_for_thirty(
    client_for, viewer, video, django_assert_num_queries
):
    client = client_for(viewer)
    hosts = [UserFactory() for _ in range(30)]
    services.room_create(user=hosts[0], video_id=video.pk)
    # knox (token, expired-token sweep), count, page (rooms with owner, video and count)
    with django_assert_num_queries(4):
        assert client.get(url("rooms")).json()["count"] == 1
    for host in hosts[1:]:
        services.room_create(user=host, video_id=video.pk)
    with django_assert_num_queries(4):
        response = client.get(url("rooms"), {"page_size": 30})
    assert len(response.json()["results"]) == 30


def test_a_playing_room_lists_its_position_advanced_to_now(client_for, viewer, room):
    services.playback_control(room_id=room.pk, user=viewer, action="play", position=1.0)
    # As if the play had happened 1.5 s ago.
    Room.objects.filter(pk=room.pk).update(state_updated_at=F("state_updated_at") - ONE_AND_A_HALF)
    played_at = Room.objects.get(pk=room.pk).state_updated_at.timestamp()
    state = client_for(None).get(url(f"rooms/{room.pk}")).json()["state"]
    assert state["is_playing"] is True
    # Advanced to the answer's own server_time, however slow this machine is right now.
    assert state["server_time"] - played_at >= 1.5
    assert state["position"] == pytest.approx(1.0 + (state["server_time"] - played_at), abs=0.01)


# --- GET /api/rooms/{id} ----------------------------------------------------------------------


def test_anyone_sees_a_public_room_with_its_participants(client_for, room, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    response = client_for(None).get(url(f"rooms/{room.pk}"))
    assert response.status_code == 200
    body = response.json()
    assert body["participants_count"] == 2
    assert [(p["user"]["username"], p["is_host"]) for p in body["participants"]] == [
        ("victor", True),
        ("sam", False),
    ]
    assert all(set(p) == {"user", "joined_at", "is_host"} for p in body["participants"])
    assert all("email" not in p["user"] for p in body["participants"])


def test_a_closed_room_is_not_found(client_for, viewer, room):
    services.room_leave(room_id=room.pk, user=viewer)
    assert_error_envelope(client_for(viewer).get(url(f"rooms/{room.pk}")), 404, "NOT_FOUND")


def test_a_private_room_is_not_found_by_someone_outside_it(client_for, private_room, stranger):
    response = client_for(stranger).get(url(f"rooms/{private_room.pk}"))
    assert_error_envelope(response, 404, "NOT_FOUND")
    assert_error_envelope(client_for(None).get(url(f"rooms/{private_room.pk}")), 404, "NOT_FOUND")


def test_an_unknown_room_is_not_found(client_for, viewer):
    assert_error_envelope(client_for(viewer).get(url("rooms/424242")), 404, "NOT_FOUND")


# --- PATCH /api/rooms/{id} --------------------------------------------------------------------


def test_the_host_changes_the_settings_and_sockets_hear_which_changed(
    client_for, viewer, room, django_capture_on_commit_callbacks, room_events
):
    heard = room_events(room)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(viewer).patch(
            url(f"rooms/{room.pk}"),
            {"message_delay": 30, "guests_can_control": True, "is_private": False},
            format="json",
        )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["message_delay"], body["guests_can_control"]) == (30, True)
    assert heard.received() == [
        {"type": "room.updated", "changes": {"message_delay": 30, "guests_can_control": True}}
    ]


def test_someone_who_is_not_the_host_cannot_change_the_room(client_for, room, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    response = client_for(subscriber).patch(
        url(f"rooms/{room.pk}"), {"message_delay": 5}, format="json"
    )
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert Room.objects.get(pk=room.pk).message_delay == 0


def test_anonymous_visitors_cannot_change_a_room(client_for, room):
    response = client_for(None).patch(url(f"rooms/{room.pk}"), {"message_delay": 5}, format="json")
    assert_error_envelope(response, 401, "UNAUTHORIZED")


def test_a_regular_host_cannot_raise_the_cap_above_ten_later(client_for, viewer, room):
    response = client_for(viewer).patch(
        url(f"rooms/{room.pk}"), {"max_participants": 50}, format="json"
    )
    assert_error_envelope(response, 400, "BAD_REQUEST")


def test_the_channel_owner_may_lift_the_cap_of_their_room(client_for, author, video):
    room = services.room_create(user=author, video_id=video.pk, max_participants=5)
    response = client_for(author).patch(
        url(f"rooms/{room.pk}"), {"max_participants": None}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["max_participants"] is None


def test_a_message_delay_over_an_hour_is_refused(client_for, viewer, room):
    response = client_for(viewer).patch(
        url(f"rooms/{room.pk}"), {"message_delay": 3601}, format="json"
    )
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert "message_delay" in error["details"]


# --- POST /api/rooms/{id}/join ----------------------------------------------------------------


def test_joining_a_public_room_adds_the_caller(client_for, room, subscriber):
    response = client_for(subscriber).post(url(f"rooms/{room.pk}/join"))
    assert response.status_code == 200
    assert response.json()["participants_count"] == 2
    assert participants_of(room) == {"victor", "sam"}


def test_joining_twice_changes_nothing(client_for, room, subscriber):
    client = client_for(subscriber)
    first = client.post(url(f"rooms/{room.pk}/join"))
    second = client.post(url(f"rooms/{room.pk}/join"))
    assert first.status_code == second.status_code == 200
    assert second.json()["participants_count"] == 2
    assert RoomParticipant.objects.filter(room=room, user=subscriber).count() == 1


def test_anonymous_visitors_cannot_join(client_for, room):
    assert_error_envelope(client_for(None).post(url(f"rooms/{room.pk}/join")), 401, "UNAUTHORIZED")


def test_someone_who_cannot_watch_the_video_cannot_join(
    client_for, sponsor, subscriber, sponsor_video
):
    room = services.room_create(user=sponsor, video_id=sponsor_video.pk)
    response = client_for(subscriber).post(url(f"rooms/{room.pk}/join"))
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert participants_of(room) == {"sophie"}


def test_a_kicked_user_cannot_join_again(client_for, viewer, room, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    services.room_kick(room_id=room.pk, actor=viewer, user_id=subscriber.pk)
    response = client_for(subscriber).post(url(f"rooms/{room.pk}/join"))
    error = assert_error_envelope(response, 403, "FORBIDDEN")
    assert "removed" in error["message"]


def test_a_private_room_refuses_someone_without_an_invitation(client_for, private_room, stranger):
    response = client_for(stranger).post(url(f"rooms/{private_room.pk}/join"))
    error = assert_error_envelope(response, 403, "FORBIDDEN")
    assert "invitation" in error["message"]


def test_a_closed_room_cannot_be_joined(client_for, viewer, room, subscriber):
    services.room_leave(room_id=room.pk, user=viewer)
    response = client_for(subscriber).post(url(f"rooms/{room.pk}/join"))
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_a_full_room_refuses_one_more(client_for, viewer, video, subscriber, stranger):
    room = services.room_create(user=viewer, video_id=video.pk, max_participants=2)
    assert client_for(subscriber).post(url(f"rooms/{room.pk}/join")).status_code == 200
    response = client_for(stranger).post(url(f"rooms/{room.pk}/join"))
    error = assert_error_envelope(response, 409, "CONFLICT")
    assert error["message"] == "Room is full"
    # Someone already inside still "joins" (idempotent) when the room is full.
    assert client_for(subscriber).post(url(f"rooms/{room.pk}/join")).status_code == 200


def test_a_place_freed_by_someone_leaving_can_be_taken(
    client_for, viewer, video, subscriber, stranger
):
    room = services.room_create(user=viewer, video_id=video.pk, max_participants=2)
    services.room_join(room_id=room.pk, user=subscriber)
    services.room_leave(room_id=room.pk, user=subscriber)
    assert client_for(stranger).post(url(f"rooms/{room.pk}/join")).status_code == 200


def test_someone_who_left_can_come_back(client_for, room, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    services.room_leave(room_id=room.pk, user=subscriber)
    assert client_for(subscriber).post(url(f"rooms/{room.pk}/join")).status_code == 200
    assert participants_of(room) == {"victor", "sam"}


# --- POST /api/rooms/{id}/leave ---------------------------------------------------------------


def test_a_guest_leaves_and_the_room_goes_on(
    client_for, room, subscriber, django_capture_on_commit_callbacks, room_events
):
    services.room_join(room_id=room.pk, user=subscriber)
    heard = room_events(room)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(subscriber).post(url(f"rooms/{room.pk}/leave"))
    assert response.status_code == 200
    assert response.json()["is_active"] is True
    assert response.json()["participants_count"] == 1
    assert participants_of(room) == {"victor"}
    # The frames count open sockets (presence); nobody here has one.
    assert heard.received() == [
        {
            "type": "room.user_left",
            "user_id": subscriber.pk,
            "username": "sam",
            "participants_count": 0,
        }
    ]


def test_the_host_leaving_closes_the_room_for_everyone(
    client_for, viewer, room, subscriber, django_capture_on_commit_callbacks, room_events
):
    services.room_join(room_id=room.pk, user=subscriber)
    heard = room_events(room)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(viewer).post(url(f"rooms/{room.pk}/leave"))
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    room.refresh_from_db()
    assert (room.is_active, room.close_reason) == (False, "host_left")
    assert room.closed_at is not None
    assert participants_of(room) == set()
    assert heard.received() == [{"type": "room.closed", "reason": "host_left"}]


def test_someone_not_in_the_room_cannot_leave_it(client_for, room, subscriber):
    response = client_for(subscriber).post(url(f"rooms/{room.pk}/leave"))
    assert_error_envelope(response, 403, "FORBIDDEN")


def test_anonymous_visitors_cannot_leave_a_room(client_for, room):
    assert_error_envelope(client_for(None).post(url(f"rooms/{room.pk}/leave")), 401, "UNAUTHORIZED")


# --- POST /api/rooms/{id}/kick/{user_id} ------------------------------------------------------


def test_the_host_removes_a_guest_who_is_disconnected_and_banned(
    client_for, viewer, room, subscriber, django_capture_on_commit_callbacks, room_events
):
    services.room_join(room_id=room.pk, user=subscriber)
    heard = room_events(room)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(viewer).post(url(f"rooms/{room.pk}/kick/{subscriber.pk}"))
    assert response.status_code == 200, response.content
    assert response.json()["participants_count"] == 1
    assert participants_of(room) == {"victor"}
    assert room.bans.filter(user=subscriber, by=viewer).exists()
    [kicked] = heard.received()
    assert (kicked["type"], kicked["user_id"], kicked["by_user_id"]) == (
        "room.kicked",
        subscriber.pk,
        viewer.pk,
    )


def test_a_guest_cannot_remove_anyone(client_for, viewer, room, subscriber, stranger):
    services.room_join(room_id=room.pk, user=subscriber)
    services.room_join(room_id=room.pk, user=stranger)
    response = client_for(subscriber).post(url(f"rooms/{room.pk}/kick/{stranger.pk}"))
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert participants_of(room) == {"victor", "sam", "bob"}


def test_the_host_cannot_remove_themself(client_for, viewer, room):
    response = client_for(viewer).post(url(f"rooms/{room.pk}/kick/{viewer.pk}"))
    assert_error_envelope(response, 400, "BAD_REQUEST")


def test_removing_someone_who_is_not_in_the_room_is_not_found(client_for, viewer, room, stranger):
    response = client_for(viewer).post(url(f"rooms/{room.pk}/kick/{stranger.pk}"))
    assert_error_envelope(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("user_id", [2**63, 10**24])
def test_removing_a_user_id_no_user_can_have_is_not_found(client_for, viewer, room, user_id):
    # Found by Schemathesis with random cases: past 64 bits, SQLite refused the query (a 500).
    response = client_for(viewer).post(url(f"rooms/{room.pk}/kick/{user_id}"))
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_anonymous_visitors_cannot_remove_anyone(client_for, room, viewer):
    response = client_for(None).post(url(f"rooms/{room.pk}/kick/{viewer.pk}"))
    assert_error_envelope(response, 401, "UNAUTHORIZED")


# --- POST /api/rooms/{id}/invite, GET /api/invitations, accept, decline ----------------------


def test_a_participant_invites_by_user_id(client_for, viewer, room, stranger):
    response = client_for(viewer).post(
        url(f"rooms/{room.pk}/invite"), {"user_id": stranger.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "room_id", "inviter", "invitee", "status", "created_at"}
    assert (body["room_id"], body["status"]) == (room.pk, "pending")
    assert (body["inviter"]["username"], body["invitee"]["username"]) == ("victor", "bob")
    assert "email" not in body["invitee"]


def test_a_guest_may_invite_too_by_username_in_any_case(client_for, room, subscriber, stranger):
    services.room_join(room_id=room.pk, user=subscriber)
    response = client_for(subscriber).post(
        url(f"rooms/{room.pk}/invite"), {"username": "BOB"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["invitee"]["id"] == stranger.pk


def test_someone_outside_the_room_cannot_invite(client_for, room, subscriber, stranger):
    response = client_for(subscriber).post(
        url(f"rooms/{room.pk}/invite"), {"user_id": stranger.pk}, format="json"
    )
    assert_error_envelope(response, 403, "FORBIDDEN")
    assert not RoomInvitation.objects.exists()


def test_inviting_an_unknown_user_is_not_found(client_for, viewer, room):
    response = client_for(viewer).post(
        url(f"rooms/{room.pk}/invite"), {"username": "nobody"}, format="json"
    )
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_inviting_twice_is_a_conflict(client_for, viewer, room, stranger):
    client = client_for(viewer)
    assert (
        client.post(url(f"rooms/{room.pk}/invite"), {"user_id": stranger.pk}, format="json")
    ).status_code == 201
    response = client.post(url(f"rooms/{room.pk}/invite"), {"user_id": stranger.pk}, format="json")
    assert_error_envelope(response, 409, "CONFLICT")


def test_inviting_someone_already_in_the_room_is_a_conflict(client_for, viewer, room, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    response = client_for(viewer).post(
        url(f"rooms/{room.pk}/invite"), {"user_id": subscriber.pk}, format="json"
    )
    assert_error_envelope(response, 409, "CONFLICT")


def test_an_invitation_needs_a_user_id_or_a_username(client_for, viewer, room):
    response = client_for(viewer).post(url(f"rooms/{room.pk}/invite"), {}, format="json")
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert "user_id" in error["details"]


def test_anonymous_visitors_cannot_invite(client_for, room, stranger):
    response = client_for(None).post(
        url(f"rooms/{room.pk}/invite"), {"user_id": stranger.pk}, format="json"
    )
    assert_error_envelope(response, 401, "UNAUTHORIZED")


def test_an_invitee_sees_the_private_room_and_accepts_into_it(
    client_for, viewer, private_room, stranger
):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    client = client_for(stranger)
    assert client.get(url(f"rooms/{private_room.pk}")).status_code == 200
    inbox = client.get(url("invitations")).json()
    assert [item["id"] for item in inbox["results"]] == [invitation.pk]

    response = client.post(url(f"invitations/{invitation.pk}/accept"))
    assert response.status_code == 200, response.content
    assert response.json()["id"] == private_room.pk
    assert participants_of(private_room) == {"victor", "bob"}
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED and invitation.responded_at
    assert client.get(url("invitations")).json()["results"] == []


def test_an_invitee_may_also_simply_join_the_private_room(
    client_for, viewer, private_room, stranger
):
    services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    assert client_for(stranger).post(url(f"rooms/{private_room.pk}/join")).status_code == 200


def test_declining_an_invitation_takes_it_out_of_the_inbox(
    client_for, viewer, private_room, stranger
):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    client = client_for(stranger)
    response = client.post(url(f"invitations/{invitation.pk}/decline"))
    assert response.status_code == 200
    assert response.json()["status"] == "declined"
    assert client.get(url("invitations")).json()["results"] == []
    assert_error_envelope(client.post(url(f"rooms/{private_room.pk}/join")), 403, "FORBIDDEN")


def test_nobody_else_can_accept_or_decline_an_invitation(
    client_for, viewer, private_room, stranger, subscriber
):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    client = client_for(subscriber)
    assert_error_envelope(client.post(url(f"invitations/{invitation.pk}/accept")), 404, "NOT_FOUND")
    assert_error_envelope(
        client.post(url(f"invitations/{invitation.pk}/decline")), 404, "NOT_FOUND"
    )
    assert client.get(url("invitations")).json()["results"] == []
    assert participants_of(private_room) == {"victor"}


def test_an_answered_invitation_cannot_be_answered_again(
    client_for, viewer, private_room, stranger
):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    client = client_for(stranger)
    assert client.post(url(f"invitations/{invitation.pk}/decline")).status_code == 200
    assert_error_envelope(client.post(url(f"invitations/{invitation.pk}/accept")), 404, "NOT_FOUND")


def test_accepting_into_a_full_room_is_a_conflict_and_keeps_the_invitation(
    client_for, viewer, video, subscriber, stranger
):
    room = services.room_create(user=viewer, video_id=video.pk, max_participants=2)
    invitation = services.room_invite(room_id=room.pk, actor=viewer, user_id=stranger.pk)
    services.room_join(room_id=room.pk, user=subscriber)
    response = client_for(stranger).post(url(f"invitations/{invitation.pk}/accept"))
    assert_error_envelope(response, 409, "CONFLICT")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_an_invitation_to_a_closed_room_is_not_in_the_inbox_and_cannot_be_accepted(
    client_for, viewer, private_room, stranger
):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    services.room_close(room_id=private_room.pk, reason="moderator")
    client = client_for(stranger)
    assert client.get(url("invitations")).json()["results"] == []
    assert_error_envelope(client.post(url(f"invitations/{invitation.pk}/accept")), 404, "NOT_FOUND")


def test_anonymous_visitors_have_no_invitations(client_for):
    assert_error_envelope(client_for(None).get(url("invitations")), 401, "UNAUTHORIZED")


def test_the_inbox_costs_the_same_queries_for_one_invitation_and_for_thirty(
    client_for, stranger, video, django_assert_num_queries
):
    client = client_for(stranger)
    hosts = [UserFactory() for _ in range(30)]
    for index, host in enumerate(hosts):
        room = services.room_create(user=host, video_id=video.pk, is_private=True)
        services.room_invite(room_id=room.pk, actor=host, user_id=stranger.pk)
        if index == 0:
            with django_assert_num_queries(4):  # knox ×2, count, page
                assert client.get(url("invitations")).json()["count"] == 1
    with django_assert_num_queries(4):
        response = client.get(url("invitations"), {"page_size": 30})
    assert len(response.json()["results"]) == 30


# --- GET /api/rooms/{id}/messages -------------------------------------------------------------


def post_messages(room: Room, user, count: int) -> list[ChatMessage]:
    # One second apart, so the flood guard (5 in 5 s) does not stop the test's own chatter.
    start = timezone.now() - timedelta(seconds=count + 10)
    return [
        services.chat_post(
            room_id=room.pk, user=user, message=f"message {i}", now=start + timedelta(seconds=i)
        )
        for i in range(count)
    ]


def test_a_participant_reads_the_chat_newest_first(client_for, viewer, room):
    posted = post_messages(room, viewer, 3)
    response = client_for(viewer).get(url(f"rooms/{room.pk}/messages"))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [m["id"] for m in results] == [m.pk for m in reversed(posted)]
    assert set(results[0]) == {"id", "user", "message", "created_at"}
    assert results[0]["message"] == "message 2"
    assert results[0]["user"]["username"] == "victor"


def test_before_pages_back_through_older_messages(client_for, viewer, room):
    posted = post_messages(room, viewer, 30)
    client = client_for(viewer)
    first = client.get(url(f"rooms/{room.pk}/messages"), {"page_size": 10}).json()
    assert first["count"] == 30
    oldest_seen = first["results"][-1]["id"]
    assert oldest_seen == posted[20].pk
    older = client.get(
        url(f"rooms/{room.pk}/messages"), {"before": oldest_seen, "page_size": 10}
    ).json()
    assert [m["id"] for m in older["results"]] == [m.pk for m in reversed(posted[10:20])]
    assert older["count"] == 20


def test_before_must_be_a_message_id(client_for, viewer, room):
    response = client_for(viewer).get(url(f"rooms/{room.pk}/messages"), {"before": "yesterday"})
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert "before" in error["details"]


def test_someone_outside_the_room_cannot_read_its_chat(client_for, viewer, room, subscriber):
    post_messages(room, viewer, 1)
    response = client_for(subscriber).get(url(f"rooms/{room.pk}/messages"))
    assert_error_envelope(response, 403, "FORBIDDEN")


def test_anonymous_visitors_cannot_read_a_chat(client_for, room):
    response = client_for(None).get(url(f"rooms/{room.pk}/messages"))
    assert_error_envelope(response, 401, "UNAUTHORIZED")


def test_the_chat_of_a_private_room_is_not_found_by_outsiders(client_for, private_room, stranger):
    response = client_for(stranger).get(url(f"rooms/{private_room.pk}/messages"))
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_the_chat_costs_the_same_queries_for_one_message_and_for_thirty(
    client_for, viewer, room, django_assert_num_queries
):
    client = client_for(viewer)
    post_messages(room, viewer, 1)
    # knox ×2, room (visibility), participant check, count, page
    with django_assert_num_queries(6):
        assert client.get(url(f"rooms/{room.pk}/messages")).json()["count"] == 1
    ChatMessage.objects.all().delete()
    post_messages(room, viewer, 30)
    with django_assert_num_queries(6):
        response = client.get(url(f"rooms/{room.pk}/messages"), {"page_size": 30})
    assert len(response.json()["results"]) == 30


# --- the schema -------------------------------------------------------------------------------


def test_the_schema_documents_every_room_path_without_a_trailing_slash(client_for):
    schema = client_for(None).get("/api/schema", HTTP_ACCEPT="application/json").json()
    paths = set(schema["paths"])
    for path in [
        "/api/rooms",
        "/api/rooms/{id}",
        "/api/rooms/{id}/join",
        "/api/rooms/{id}/leave",
        "/api/rooms/{id}/kick/{user_id}",
        "/api/rooms/{id}/invite",
        "/api/rooms/{id}/messages",
        "/api/invitations",
        "/api/invitations/{id}/accept",
        "/api/invitations/{id}/decline",
    ]:
        assert path in paths, path
    assert "409" in schema["paths"]["/api/rooms/{id}/join"]["post"]["responses"]


# --- a few more refusals ----------------------------------------------------------------------


def test_joining_an_unknown_room_is_not_found(client_for, viewer):
    assert_error_envelope(client_for(viewer).post(url("rooms/424242/join")), 404, "NOT_FOUND")


def test_a_closed_room_cannot_be_changed(client_for, viewer, room):
    services.room_close(room_id=room.pk, reason="moderator")
    response = client_for(viewer).patch(
        url(f"rooms/{room.pk}"), {"is_private": True}, format="json"
    )
    assert_error_envelope(response, 404, "NOT_FOUND")


def test_even_the_channel_owner_has_a_sane_upper_limit(client_for, author, video):
    response = client_for(author).post(
        url("rooms"), {"video_id": video.pk, "max_participants": 10**12}, format="json"
    )
    assert_error_envelope(response, 400, "BAD_REQUEST")


def test_anonymous_visitors_cannot_answer_invitations(client_for, viewer, private_room, stranger):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    client = client_for(None)
    for answer in ("accept", "decline"):
        response = client.post(url(f"invitations/{invitation.pk}/{answer}"))
        assert_error_envelope(response, 401, "UNAUTHORIZED")
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.PENDING


def test_an_invitee_who_cannot_watch_the_video_is_refused_on_accepting(
    client_for, sponsor, sponsor_video, stranger
):
    room = services.room_create(user=sponsor, video_id=sponsor_video.pk, is_private=True)
    invitation = services.room_invite(room_id=room.pk, actor=sponsor, user_id=stranger.pk)
    response = client_for(stranger).post(url(f"invitations/{invitation.pk}/accept"))
    assert_error_envelope(response, 403, "FORBIDDEN")


def test_a_kicked_invitee_cannot_accept_an_old_invitation(
    client_for, viewer, private_room, stranger
):
    invitation = services.room_invite(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    services.room_join(room_id=private_room.pk, user=stranger)
    services.room_kick(room_id=private_room.pk, actor=viewer, user_id=stranger.pk)
    assert_error_envelope(
        client_for(stranger).post(url(f"invitations/{invitation.pk}/accept")), 404, "NOT_FOUND"
    )
    assert_error_envelope(
        client_for(stranger).post(url(f"rooms/{private_room.pk}/join")), 403, "FORBIDDEN"
    )
