"""Rules of the room services that the endpoints do not show on their own: closing, settings,
bans and invitations together, what deletes take with them, and events only after commit."""

import pytest
from django.db import transaction

from channels_app.models import Subscription
from channels_app.services import channel_delete
from rooms import services
from rooms.models import (
    ChatMessage,
    InvitationStatus,
    Room,
    RoomBan,
    RoomInvitation,
    RoomParticipant,
)
from rooms.selectors import my_rooms, rooms_visible_to
from videohost.errors import Conflict, InvalidInput, NotAllowed, NotFound
from videohost.testing import VideoFactory
from videos.models import AccessLevel


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel)


@pytest.fixture
def room(viewer, video, subscriber):
    """Victor hosts, Sam is a guest, and Sam has said something."""
    room = services.room_create(user=viewer, video_id=video.pk)
    services.room_join(room_id=room.pk, user=subscriber)
    services.chat_post(room_id=room.pk, user=subscriber, message="hi")
    return room


# --- closing ----------------------------------------------------------------------------------


def test_closing_twice_closes_once_and_tells_the_sockets_once(
    room, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        first = services.room_close(room_id=room.pk, reason="moderator", by=moderator)
        closed_at = first.closed_at
        again = services.room_close(room_id=room.pk, reason="host_left")
    assert len(callbacks) == 1
    assert (again.close_reason, again.closed_at) == ("moderator", closed_at)


def test_closing_pauses_playback_and_empties_the_room(room, viewer):
    services.playback_control(room_id=room.pk, user=viewer, action="play", position=1.0)
    closed = services.room_close(room_id=room.pk, reason="moderator")
    assert closed.is_playing is False
    assert not RoomParticipant.objects.filter(room=room, left_at__isnull=True).exists()


def test_a_guest_cannot_close_the_room(room, subscriber):
    with pytest.raises(NotAllowed):
        services.room_close(room_id=room.pk, reason="moderator", by=subscriber)
    assert Room.objects.get(pk=room.pk).is_active is True


def test_a_close_needs_a_known_reason(room):
    with pytest.raises(InvalidInput):
        services.room_close(room_id=room.pk, reason="bored")


def test_no_event_leaves_for_a_close_that_was_rolled_back(room, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.room_close(room_id=room.pk, reason="moderator")
            raise RuntimeError("the caller's transaction fails later")
    assert callbacks == []
    assert Room.objects.get(pk=room.pk).is_active is True


def test_closing_an_unknown_room_is_not_found(db):
    with pytest.raises(NotFound):
        services.room_close(room_id=123456, reason="moderator")


# --- settings ---------------------------------------------------------------------------------


def test_an_unchanged_setting_is_not_announced(room, viewer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _, changed = services.room_update(
            room_id=room.pk, actor=viewer, is_private=False, message_delay=0
        )
    assert changed == {}
    assert callbacks == []


def test_only_the_four_settings_can_be_changed(room, viewer):
    with pytest.raises(InvalidInput) as refused:
        services.room_update(room_id=room.pk, actor=viewer, owner_id=1)
    assert "owner_id" in refused.value.details


def test_someone_outside_a_private_room_cannot_even_learn_it_exists(viewer, video, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    with pytest.raises(NotFound):
        services.room_update(room_id=private.pk, actor=stranger, message_delay=5)
    with pytest.raises(NotFound):
        services.room_kick(room_id=private.pk, actor=stranger, user_id=viewer.pk)
    with pytest.raises(NotFound):
        services.room_invite(room_id=private.pk, actor=stranger, user_id=stranger.pk)


def test_lowering_the_cap_keeps_everyone_inside_but_lets_nobody_else_in(
    room, viewer, stranger, sponsor
):
    services.room_join(room_id=room.pk, user=stranger)
    services.room_update(room_id=room.pk, actor=viewer, max_participants=2)
    assert RoomParticipant.objects.filter(room=room, left_at__isnull=True).count() == 3
    with pytest.raises(Conflict):
        services.room_join(room_id=room.pk, user=sponsor)


# --- joining, bans and invitations ------------------------------------------------------------


def test_joining_with_a_pending_invitation_accepts_it(viewer, video, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    invitation = services.room_invite(room_id=private.pk, actor=viewer, user_id=stranger.pk)
    services.room_join(room_id=private.pk, user=stranger)
    invitation.refresh_from_db()
    assert invitation.status == InvitationStatus.ACCEPTED


def test_an_accepted_invitation_lets_its_holder_back_in_after_leaving(viewer, video, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    invitation = services.room_invite(room_id=private.pk, actor=viewer, user_id=stranger.pk)
    services.invitation_accept(invitation_id=invitation.pk, user=stranger)
    services.room_leave(room_id=private.pk, user=stranger)
    services.room_join(room_id=private.pk, user=stranger)


def test_a_kick_withdraws_the_pending_invitation_and_a_new_one_is_refused(room, viewer, subscriber):
    services.room_kick(room_id=room.pk, actor=viewer, user_id=subscriber.pk)
    assert RoomBan.objects.filter(room=room, user=subscriber).exists()
    with pytest.raises(Conflict):
        services.room_invite(room_id=room.pk, actor=viewer, user_id=subscriber.pk)


def test_kicking_someone_who_already_left_is_not_found(room, viewer, subscriber):
    services.room_leave(room_id=room.pk, user=subscriber)
    with pytest.raises(NotFound):
        services.room_kick(room_id=room.pk, actor=viewer, user_id=subscriber.pk)


def test_losing_access_to_the_video_means_no_coming_back(viewer, channel, subscriber):
    members_only = VideoFactory(channel=channel, access_level=AccessLevel.SUBSCRIBER)
    room = services.room_create(user=subscriber, video_id=members_only.pk)
    Subscription.objects.filter(user=subscriber).delete()
    # The host is still inside (idempotent joins re-check access, so the socket is refused).
    with pytest.raises(NotAllowed):
        services.room_join(room_id=room.pk, user=subscriber)
    with pytest.raises(NotAllowed):
        services.room_join(room_id=room.pk, user=viewer)


def test_a_hidden_video_takes_its_rooms_out_of_sight(room, video, stranger):
    video.is_hidden = True
    video.save(update_fields=["is_hidden"])
    assert not rooms_visible_to(user=stranger).exists()
    with pytest.raises(NotFound):
        services.room_join(room_id=room.pk, user=stranger)


def test_my_rooms_are_the_open_rooms_i_am_in(room, viewer, subscriber, stranger, video):
    other = services.room_create(user=stranger, video_id=video.pk)
    assert [r.pk for r in my_rooms(user=subscriber)] == [room.pk]
    assert [r.pk for r in my_rooms(user=stranger)] == [other.pk]
    services.room_leave(room_id=room.pk, user=subscriber)
    assert list(my_rooms(user=subscriber)) == []


def test_an_invitation_names_exactly_one_person(room, viewer, stranger):
    with pytest.raises(InvalidInput):
        services.room_invite(room_id=room.pk, actor=viewer)
    with pytest.raises(InvalidInput):
        services.room_invite(room_id=room.pk, actor=viewer, user_id=stranger.pk, username="bob")


def test_a_deactivated_user_cannot_be_invited(room, viewer, stranger):
    stranger.is_active = False
    stranger.save(update_fields=["is_active"])
    with pytest.raises(NotFound):
        services.room_invite(room_id=room.pk, actor=viewer, user_id=stranger.pk)


# --- what deletes take with them --------------------------------------------------------------


def test_deleting_the_video_removes_its_rooms_and_everything_in_them(room, video, stranger):
    services.room_invite(room_id=room.pk, actor=room.owner, user_id=stranger.pk)
    video.delete()
    assert not Room.objects.exists()
    assert not RoomParticipant.objects.exists()
    assert not ChatMessage.objects.exists()
    assert not RoomInvitation.objects.exists()


def test_deleting_the_host_removes_their_rooms(room, viewer):
    viewer.delete()
    assert not Room.objects.filter(pk=room.pk).exists()
    assert not ChatMessage.objects.exists()


def test_deleting_the_channel_removes_the_rooms_on_its_videos(room, author, channel):
    channel_delete(channel=channel, actor=author)
    assert not Room.objects.exists()


def test_deleting_a_guest_removes_their_place_and_messages_but_not_the_room(room, subscriber):
    subscriber.delete()
    assert Room.objects.filter(pk=room.pk, is_active=True).exists()
    assert list(RoomParticipant.objects.values_list("user__username", flat=True)) == ["victor"]
    assert not ChatMessage.objects.exists()
