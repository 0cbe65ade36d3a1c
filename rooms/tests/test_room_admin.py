"""Moderators look into rooms, close them and delete chat messages in the admin."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from rooms import services
from rooms.models import ChatMessage, Room
from videohost.testing import UserFactory, VideoFactory

ROOMS = reverse("admin:rooms_room_changelist")
MESSAGES = reverse("admin:rooms_chatmessage_changelist")


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, title="Sunset timelapse")


@pytest.fixture
def room(viewer, video, subscriber):
    room = services.room_create(user=viewer, video_id=video.pk)
    services.room_join(room_id=room.pk, user=subscriber)
    services.chat_post(room_id=room.pk, user=subscriber, message="spam spam spam")
    return room


def chat(room, user, count: int) -> None:
    start = timezone.now() - timedelta(seconds=count + 10)
    for i in range(count):
        services.chat_post(
            room_id=room.pk, user=user, message=f"line {i}", now=start + timedelta(seconds=i)
        )


def test_a_moderator_sees_the_rooms_with_their_participant_counts(client, moderator, room):
    client.force_login(moderator)
    response = client.get(ROOMS)
    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.pk, row.participants_count) == (room.pk, 2)
    assert b"Sunset timelapse" in response.content


def test_the_room_page_shows_its_participants_and_newest_chat(client, moderator, room, viewer):
    chat(room, viewer, 60)
    client.force_login(moderator)
    response = client.get(reverse("admin:rooms_room_change", args=[room.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert "victor" in content and "sam" in content
    assert "line 59" in content  # the newest …
    assert "spam spam spam" not in content  # … and not the whole history


def test_the_room_list_costs_the_same_queries_for_one_room_and_for_thirty(
    client, moderator, video, django_assert_num_queries
):
    client.force_login(moderator)
    services.room_create(user=UserFactory(), video_id=video.pk)
    client.get(ROOMS)  # warm the session and content types
    with django_assert_num_queries(9) as one:
        client.get(ROOMS)
    for _ in range(29):
        services.room_create(user=UserFactory(), video_id=video.pk)
    with django_assert_num_queries(len(one)):
        response = client.get(ROOMS)
    assert len(response.context["cl"].result_list) == 30


def test_the_chat_list_costs_the_same_queries_for_one_message_and_for_thirty(
    client, moderator, room, viewer, django_assert_num_queries
):
    client.force_login(moderator)
    client.get(MESSAGES)
    with django_assert_num_queries(10) as one:
        client.get(MESSAGES)
    chat(room, viewer, 29)
    with django_assert_num_queries(len(one)):
        response = client.get(MESSAGES)
    assert len(response.context["cl"].result_list) == 30


def test_closing_a_room_from_the_admin_tells_its_sockets(
    client, moderator, room, django_capture_on_commit_callbacks
):
    client.force_login(moderator)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            ROOMS, {"action": "close_rooms", "_selected_action": [room.pk]}, follow=True
        )
    assert response.status_code == 200
    assert "1 room(s) closed." in response.content.decode()
    room.refresh_from_db()
    assert (room.is_active, room.close_reason) == (False, "moderator")
    assert len(callbacks) == 1  # events.room_closed


def test_rooms_are_neither_added_edited_nor_deleted_in_the_admin(client, moderator, room):
    client.force_login(moderator)
    assert client.get(reverse("admin:rooms_room_add")).status_code == 403
    assert client.get(reverse("admin:rooms_room_delete", args=[room.pk])).status_code == 403
    page = client.get(reverse("admin:rooms_room_change", args=[room.pk]))
    assert page.context["has_change_permission"] is False


def test_a_moderator_deletes_a_chat_message(client, moderator, room):
    message = ChatMessage.objects.get()
    client.force_login(moderator)
    response = client.post(
        reverse("admin:rooms_chatmessage_delete", args=[message.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not ChatMessage.objects.exists()
    assert Room.objects.filter(pk=room.pk, is_active=True).exists()


def test_a_moderator_deletes_chat_messages_in_bulk(client, moderator, room, viewer):
    chat(room, viewer, 3)
    client.force_login(moderator)
    ids = list(ChatMessage.objects.filter(user=viewer).values_list("pk", flat=True))
    response = client.post(
        MESSAGES, {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )
    assert response.status_code == 302
    assert list(ChatMessage.objects.values_list("message", flat=True)) == ["spam spam spam"]


def test_the_chat_can_be_searched_and_filtered_by_room(client, moderator, room, viewer, video):
    other = services.room_create(user=UserFactory(), video_id=video.pk)
    services.chat_post(room_id=other.pk, user=other.owner, message="elsewhere")
    client.force_login(moderator)
    found = client.get(MESSAGES, {"q": "spam"}).context["cl"].result_list
    assert [m.message for m in found] == ["spam spam spam"]
    found = client.get(MESSAGES, {"room__id__exact": other.pk}).context["cl"].result_list
    assert [m.message for m in found] == ["elsewhere"]
    found = client.get(MESSAGES, {"q": "sam"}).context["cl"].result_list
    assert [m.message for m in found] == ["spam spam spam"]


@pytest.mark.parametrize("persona", ["viewer", "author"])
def test_people_who_are_not_staff_cannot_open_the_room_admin(client, request, persona, room):
    client.force_login(request.getfixturevalue(persona))
    for page in (ROOMS, MESSAGES, reverse("admin:rooms_room_change", args=[room.pk])):
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    assert Room.objects.get(pk=room.pk).is_active is True


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio(loop_scope="session")
async def test_a_socket_in_the_room_hears_room_closed_moderator_from_the_admin_action(
    author, viewer, moderator
):
    from channels.db import database_sync_to_async
    from django.test import Client

    from rooms.tests.test_consumer_support import close_code, frames_until, host_and_guest

    room, host, guest = await host_and_guest(author, viewer)

    def close_in_the_admin():
        client = Client()
        client.force_login(moderator)
        return client.post(ROOMS, {"action": "close_rooms", "_selected_action": [room.pk]})

    response = await database_sync_to_async(close_in_the_admin)()
    assert response.status_code == 302
    for socket in (host, guest):
        frames = await frames_until(socket, "room_closed", timeout=2)
        assert frames[-1] == {"type": "room_closed", "reason": "moderator"}
        assert await close_code(socket) == 4000
