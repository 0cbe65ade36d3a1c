"""chat_post: what a chat message must be, slow mode and the flood guard (ROOM_PROTOCOL.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import services
from rooms.models import ChatMessage, RoomParticipant
from rooms.tests.interleaving import on_first_read
from videohost.errors import InvalidInput, NotAllowed, NotAuthenticated, NotFound, RateLimited
from videohost.testing import VideoFactory

START = timezone.now().replace(microsecond=0) - timedelta(hours=1)


def at(seconds: float):
    return START + timedelta(seconds=seconds)


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel)


@pytest.fixture
def room(viewer, video, subscriber):
    """Victor hosts, Sam is a guest."""
    room = services.room_create(user=viewer, video_id=video.pk)
    services.room_join(room_id=room.pk, user=subscriber)
    return room


@pytest.fixture
def slow_room(room, viewer):
    services.room_update(room_id=room.pk, actor=viewer, message_delay=10)
    return room


def post(room, user, message="hello", seconds=0.0, **kwargs):
    return services.chat_post(
        room_id=room.pk, user=user, message=message, now=at(seconds), **kwargs
    )


def test_a_message_is_stored_stripped_with_its_client_id(room, subscriber):
    saved = post(room, subscriber, "  hello there \n", client_id="c-1")
    stored = ChatMessage.objects.get(pk=saved.pk)
    assert (stored.message, stored.client_id, stored.user, stored.created_at) == (
        "hello there",
        "c-1",
        subscriber,
        at(0),
    )
    assert RoomParticipant.objects.get(room=room, user=subscriber).last_message_at == at(0)


@pytest.mark.parametrize("message", ["", "   ", "\n\t"])
def test_an_empty_message_is_refused(room, subscriber, message):
    with pytest.raises(InvalidInput):
        post(room, subscriber, message)
    assert not ChatMessage.objects.exists()


def test_a_message_of_500_characters_is_accepted_and_501_refused(room, subscriber):
    post(room, subscriber, "x" * 500)
    with pytest.raises(InvalidInput) as refused:
        post(room, subscriber, "x" * 501, seconds=1)
    assert "message" in refused.value.details
    assert ChatMessage.objects.count() == 1


def test_a_message_must_be_text(room, subscriber):
    with pytest.raises(InvalidInput):
        post(room, subscriber, {"html": "<b>"})


def test_a_client_id_longer_than_64_characters_is_refused(room, subscriber):
    with pytest.raises(InvalidInput):
        post(room, subscriber, client_id="c" * 65)


def test_someone_not_in_the_room_cannot_post(room, stranger):
    with pytest.raises(NotAllowed):
        post(room, stranger)


def test_someone_who_left_cannot_post(room, subscriber):
    services.room_leave(room_id=room.pk, user=subscriber)
    with pytest.raises(NotAllowed):
        post(room, subscriber)


def test_anonymous_visitors_cannot_post(room):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        post(room, AnonymousUser())


def test_nobody_posts_in_a_closed_room(room, viewer):
    services.room_close(room_id=room.pk, reason="moderator")
    with pytest.raises(NotFound):
        post(room, viewer)


def test_slow_mode_holds_a_guest_back_with_the_seconds_left(slow_room, subscriber):
    post(slow_room, subscriber, seconds=0)
    with pytest.raises(RateLimited) as limited:
        post(slow_room, subscriber, seconds=3.2)
    assert limited.value.retry_after == 7  # ceil(10 - 3.2)
    assert ChatMessage.objects.count() == 1
    post(slow_room, subscriber, seconds=10)
    assert ChatMessage.objects.count() == 2


def test_slow_mode_does_not_hold_back_the_host(slow_room, viewer):
    for second in range(3):
        post(slow_room, viewer, seconds=second * 2)
    assert ChatMessage.objects.filter(user=viewer).count() == 3


def test_slow_mode_does_not_hold_back_staff(slow_room, moderator):
    services.room_join(room_id=slow_room.pk, user=moderator)
    post(slow_room, moderator, seconds=0)
    post(slow_room, moderator, seconds=2)
    assert ChatMessage.objects.filter(user=moderator).count() == 2


def test_a_refused_message_does_not_restart_the_slow_mode_clock(slow_room, subscriber):
    post(slow_room, subscriber, seconds=0)
    with pytest.raises(RateLimited):
        post(slow_room, subscriber, seconds=9)
    post(slow_room, subscriber, seconds=10.5)


def test_without_slow_mode_a_guest_may_answer_at_once(room, subscriber):
    post(room, subscriber, seconds=0)
    post(room, subscriber, seconds=0.1)
    assert ChatMessage.objects.count() == 2


def test_the_flood_guard_refuses_a_sixth_message_within_five_seconds(room, subscriber):
    for i in range(5):
        post(room, subscriber, f"m{i}", seconds=i * 0.5)  # 0.0 … 2.0
    with pytest.raises(RateLimited) as limited:
        post(room, subscriber, "m5", seconds=2.5)
    # The oldest of the five (at 0.0) leaves the window at 5.0: 2.5 s from now.
    assert limited.value.retry_after == 3
    assert ChatMessage.objects.count() == 5
    post(room, subscriber, "m5", seconds=5.1)
    assert ChatMessage.objects.count() == 6


def test_a_message_leaving_the_flood_window_while_the_guard_reads_no_longer_counts(
    room, subscriber, monkeypatch
):
    for i in range(5):
        post(room, subscriber, f"m{i}", seconds=i * 0.5)  # 0.0 … 2.0
    # The guard reads from 5 s before the clock's first reading (4.999: m0 is inside), then
    # takes the message's time (5.001: m0 has left the window).
    readings = iter([at(4.999), at(5.001)])
    monkeypatch.setattr(services, "_as_datetime", lambda now: next(readings))

    saved = services.chat_post(room_id=room.pk, user=subscriber, message="m5")

    assert saved.created_at == at(5.001)


def test_the_flood_guard_applies_to_the_host_too(room, viewer):
    for i in range(5):
        post(room, viewer, f"m{i}", seconds=i * 0.1)
    with pytest.raises(RateLimited):
        post(room, viewer, "m5", seconds=1)


def test_the_flood_guard_counts_each_person_separately(room, viewer, subscriber):
    for i in range(5):
        post(room, viewer, f"host {i}", seconds=i * 0.1)
    post(room, subscriber, "guest", seconds=1)
    assert ChatMessage.objects.filter(user=subscriber).count() == 1


def test_the_flood_guard_counts_each_room_separately(room, viewer, video):
    other = services.room_create(user=viewer, video_id=video.pk)
    for i in range(5):
        post(room, viewer, f"m{i}", seconds=i * 0.1)
    post(other, viewer, "elsewhere", seconds=1)


def test_the_time_now_is_used_when_none_is_given(room, subscriber):
    before = timezone.now()
    saved = services.chat_post(room_id=room.pk, user=subscriber, message="now")
    assert before <= saved.created_at <= timezone.now()


def test_a_message_another_tab_stored_just_before_the_read_counts_as_the_older_one(
    room, subscriber, monkeypatch
):
    other_tab = on_first_read(
        monkeypatch,
        "_chat_facts",
        lambda: services.chat_post(room_id=room.pk, user=subscriber, message="from tab 2"),
        before=True,
    )
    saved = services.chat_post(room_id=room.pk, user=subscriber, message="from tab 1")

    # This message was checked after tab 2's was stored, so it is the newer one, and the
    # sender's row (slow mode's clock) has its time, not an earlier one.
    assert saved.created_at > other_tab[0].created_at
    row = RoomParticipant.objects.get(room=room, user=subscriber)
    assert row.last_message_at == saved.created_at
