"""The /rooms/<id> page: who gets it, what the host and guests see, and its ended states."""

import pytest
from django.urls import reverse

from rooms import services
from videohost.testing import UserFactory, VideoFactory
from videos.models import AccessLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, title="Sunset timelapse")


@pytest.fixture
def room(viewer, video):
    """Victor hosts a public room on Alice's public video."""
    return services.room_create(user=viewer, video_id=video.pk)


def get(client, room_id: int, user=None):
    if user is not None:
        client.force_login(user)
    return client.get(reverse("room_detail", args=[room_id]))


def page_of(client, room_id: int, user) -> str:
    response = get(client, room_id, user)
    assert response.status_code == 200
    return response.content.decode()


def test_room_page_sends_anonymous_visitors_to_sign_in(client, room):
    response = get(client, room.pk)

    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login?next=/rooms/{room.pk}"


def test_room_page_has_the_player_streaming_the_rooms_video(client, room, video, subscriber):
    page = page_of(client, room.pk, subscriber)

    assert '<video id="room-player"' in page
    assert f'src="/api/videos/{video.pk}/stream"' in page
    assert f'data-room-id="{room.pk}"' in page
    assert 'src="/static/js/room.js"' in page
    assert "Hosted by Victor" in page
    assert f"/rooms/{room.pk}</" not in page  # the link lives in an input's value
    assert f'value="http://testserver/rooms/{room.pk}"' in page


def test_room_page_works_with_a_trailing_slash(client, room, subscriber):
    assert get(client, room.pk, subscriber).status_code == 200
    assert client.get(f"/rooms/{room.pk}/").status_code == 200


def test_missing_room_is_404(client, viewer):
    assert get(client, 424242, viewer).status_code == 404


def test_private_room_is_404_for_someone_not_invited(client, viewer, video, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)

    assert get(client, private.pk, stranger).status_code == 404


def test_private_room_opens_for_an_invited_user(client, viewer, video, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    services.room_invite(room_id=private.pk, actor=viewer, username="bob")

    assert get(client, private.pk, stranger).status_code == 200


def test_host_sees_native_controls_settings_and_kick_buttons(client, room, viewer, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)

    page = page_of(client, room.pk, viewer)

    assert 'id="settings-form"' in page
    assert 'name="guests_can_control"' in page
    assert f'data-kick="{subscriber.pk}"' in page
    assert f'data-kick="{viewer.pk}"' not in page  # no kicking yourself
    assert ">End room</button>" in page
    assert 'data-is-host="true"' in page
    player = page.split('<video id="room-player"')[1].split(">")[0]
    assert " controls" in player
    assert " muted" not in player


def test_guest_sees_no_settings_no_kick_and_a_muted_player_without_controls(
    client, room, viewer, subscriber
):
    services.room_join(room_id=room.pk, user=subscriber)

    page = page_of(client, room.pk, subscriber)

    assert 'id="settings-form"' not in page
    assert "data-kick" not in page
    assert ">Leave</button>" in page
    assert 'data-is-host="false"' in page
    assert "The host controls playback." in page
    player = page.split('<video id="room-player"')[1].split(">")[0]
    assert " controls" not in player
    # Muted autoplay is allowed without a gesture: the guest follows the host at once.
    assert " muted" in player
    assert 'id="room-unmute"' in page


def test_guests_get_controls_when_the_host_lets_them(client, room, viewer, subscriber):
    services.room_update(room_id=room.pk, actor=viewer, guests_can_control=True)

    page = page_of(client, room.pk, subscriber)

    player = page.split('<video id="room-player"')[1].split(">")[0]
    assert " controls" in player
    assert "Everyone can control playback." in page


def test_regular_hosts_seat_field_is_capped_and_owners_is_not(client, video, viewer, author):
    room = services.room_create(user=viewer, video_id=video.pk)
    page = page_of(client, room.pk, viewer)
    seats = page.split('id="id_max_participants"')[1].split(">")[0]
    assert 'max="10"' in seats

    client.logout()
    owned = services.room_create(user=author, video_id=video.pk)
    page = page_of(client, owned.pk, author)
    seats = page.split('id="id_max_participants"')[1].split(">")[0]
    assert "max=" not in seats
    assert 'placeholder="Unlimited"' in seats


def test_room_page_escapes_user_text(client, channel):
    host = UserFactory(username="mallory", display_name="<img src=x onerror=alert(1)>")
    video = VideoFactory(channel=channel, title="<script>alert('t')</script>")
    room = services.room_create(user=host, video_id=video.pk)

    page = page_of(client, room.pk, UserFactory())

    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    assert "Hosted by &lt;img src=x onerror=alert(1)&gt;" in page


def test_closed_room_shows_a_closed_state_with_the_reason(client, room, viewer, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    services.room_leave(room_id=room.pk, user=viewer)

    response = get(client, room.pk, subscriber)

    page = response.content.decode()
    assert response.status_code == 200
    assert "This room has closed" in page
    assert "The host ended the room." in page
    assert "room-player" not in page
    assert 'href="/rooms"' in page


def test_room_closed_by_a_moderator_says_so(client, room, subscriber, moderator):
    services.room_close(room_id=room.pk, reason="moderator", by=moderator)

    page = page_of(client, room.pk, subscriber)

    assert "This room has closed" in page
    assert "A moderator closed this room." in page


def test_closed_private_room_stays_404_for_strangers(client, viewer, video, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    services.room_leave(room_id=private.pk, user=viewer)

    assert get(client, private.pk, stranger).status_code == 404


def test_kicked_user_sees_that_they_were_removed(client, room, viewer, subscriber):
    services.room_join(room_id=room.pk, user=subscriber)
    services.room_kick(room_id=room.pk, actor=viewer, user_id=subscriber.pk)

    page = page_of(client, room.pk, subscriber)

    assert "You were removed from this room" in page
    assert "room-player" not in page


def test_someone_who_cannot_watch_the_video_is_refused_without_the_stream(
    client, channel, author, viewer
):
    sponsors_only = VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR)
    room = services.room_create(user=author, video_id=sponsors_only.pk)

    page = page_of(client, room.pk, viewer)

    assert "You can&#x27;t join this room" in page
    assert "for sponsors of Alice&#x27;s Workshop" in page
    assert "/stream" not in page
