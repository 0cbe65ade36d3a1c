"""The /rooms page: public rooms, the caller's rooms and pending invitations."""

import pytest
from django.urls import reverse

from rooms import services
from videohost.testing import UserFactory, VideoFactory
from videos.models import AccessLevel

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, title="Sunset timelapse")


def page_of(client, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("rooms"))
    assert response.status_code == 200
    return response.content.decode()


def test_rooms_page_lists_active_public_rooms_with_host_count_and_join(client, video, viewer):
    room = services.room_create(user=viewer, video_id=video.pk)
    guest = UserFactory(username="gina")
    services.room_join(room_id=room.pk, user=guest)

    page = page_of(client, UserFactory(username="walt"))

    assert f'data-room-id="{room.pk}"' in page
    assert "Sunset timelapse" in page
    assert "Hosted by Victor" in page
    assert '<span class="participants-count">2</span>' in page
    assert f'href="/rooms/{room.pk}">Join</a>' in page


def test_rooms_page_shows_public_rooms_to_anonymous_visitors_with_a_sign_in_prompt(
    client, video, viewer
):
    room = services.room_create(user=viewer, video_id=video.pk)

    page = page_of(client)

    assert f'data-room-id="{room.pk}"' in page
    assert "Sign in</a> to join a room" in page
    assert 'id="invitations"' not in page


def test_rooms_page_hides_private_rooms_from_strangers(client, video, viewer, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)

    page = page_of(client, stranger)

    assert f'data-room-id="{private.pk}"' not in page
    assert "Sunset timelapse" not in page
    assert "No public rooms right now" in page


def test_rooms_page_leaves_out_closed_rooms(client, video, viewer, stranger):
    room = services.room_create(user=viewer, video_id=video.pk)
    services.room_leave(room_id=room.pk, user=viewer)

    page = page_of(client, stranger)

    assert f'data-room-id="{room.pk}"' not in page
    assert "No public rooms right now" in page


def test_rooms_page_shows_pending_invitations_with_accept_and_decline(
    client, video, viewer, stranger
):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    invitation = services.room_invite(room_id=private.pk, actor=viewer, username="bob")

    page = page_of(client, stranger)

    assert f'data-invitation-id="{invitation.pk}"' in page
    assert "<strong>Victor</strong> invited you to watch" in page
    assert 'data-invitation-action="accept"' in page
    assert 'data-invitation-action="decline"' in page
    assert 'id="invitations-empty" hidden' in page


def test_someone_elses_invitation_is_not_shown(client, video, viewer, stranger, subscriber):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    services.room_invite(room_id=private.pk, actor=viewer, username="bob")

    page = page_of(client, subscriber)

    assert "data-invitation-id" not in page
    assert "No pending invitations" in page


def test_answered_invitations_leave_the_list(client, video, viewer, stranger):
    private = services.room_create(user=viewer, video_id=video.pk, is_private=True)
    invitation = services.room_invite(room_id=private.pk, actor=viewer, username="bob")
    services.invitation_decline(invitation_id=invitation.pk, user=stranger)

    page = page_of(client, stranger)

    assert "data-invitation-id" not in page


def test_my_rooms_lists_the_rooms_i_host_and_the_ones_i_joined(
    client, video, viewer, stranger, channel
):
    hosted = services.room_create(user=stranger, video_id=video.pk, is_private=True)
    other = VideoFactory(channel=channel, title="Another clip")
    joined = services.room_create(user=viewer, video_id=other.pk)
    services.room_join(room_id=joined.pk, user=stranger)

    page = page_of(client, stranger)

    mine = page.split('id="mine-heading"')[1].split('id="public-heading"')[0]
    assert f'data-room-id="{hosted.pk}"' in mine
    assert "You host" in mine
    assert f'data-room-id="{joined.pk}"' in mine
    assert "Hosted by Victor" in mine


def test_my_rooms_and_invitations_have_empty_states(client, viewer):
    page = page_of(client, viewer)

    assert "No pending invitations" in page
    assert "You are not in any room" in page
    assert "No public rooms right now" in page


def test_a_room_on_a_video_the_caller_cannot_watch_is_shown_locked_without_join(
    client, channel, author, viewer
):
    sponsors_only = VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR)
    room = services.room_create(user=author, video_id=sponsors_only.pk)

    page = page_of(client, viewer)

    card = page.split(f'data-room-id="{room.pk}"')[1].split("</article>")[0]
    assert "Sponsors only" in card
    assert "card-locked" in page.split(f'data-room-id="{room.pk}"')[0].rsplit("<article", 1)[1]
    assert ">Join</a>" not in card


def test_rooms_page_escapes_titles_and_names(client, channel):
    host = UserFactory(username="mallory", display_name="<b>Mal</b>")
    video = VideoFactory(channel=channel, title="<script>alert(1)</script>")
    services.room_create(user=host, video_id=video.pk)

    page = page_of(client, UserFactory())

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Hosted by &lt;b&gt;Mal&lt;/b&gt;" in page


def test_rooms_page_costs_the_same_queries_for_one_room_and_thirty(
    client, channel, viewer, django_assert_num_queries
):
    stranger_user = UserFactory(username="quinn")
    client.force_login(stranger_user)
    video = VideoFactory(channel=channel)

    def count_queries(expected_rooms: int) -> None:
        response = client.get(reverse("rooms"))
        assert response.content.decode().count('class="card room-card') == expected_rooms

    services.room_create(user=viewer, video_id=video.pk)
    # session, user, count, page, subscriptions, my rooms, invitations
    with django_assert_num_queries(7):
        count_queries(1)
    for _ in range(29):
        services.room_create(user=UserFactory(), video_id=video.pk)
    with django_assert_num_queries(7):
        count_queries(20)  # a full page of the thirty
