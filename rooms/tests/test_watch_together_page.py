"""The "Watch together" button on the video page: only for people who may watch the video."""

import pytest
from django.urls import reverse

from videohost.testing import VideoFactory
from videos.models import AccessLevel, VideoStatus

pytestmark = pytest.mark.django_db

BUTTON = 'id="watch-together"'
SIGN_IN = 'id="watch-together-signin"'


def page_of(client, video, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("video_detail", args=[video.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_signed_in_viewer_of_a_public_video_gets_a_working_button(client, channel, viewer):
    video = VideoFactory(channel=channel)

    page = page_of(client, video, viewer)

    assert f'{BUTTON} data-video-id="{video.pk}"' in page
    assert "disabled" not in page.split(BUTTON)[1].split(">")[0]
    assert 'id="watch-together-error"' in page
    assert "coming soon" not in page


def test_anonymous_visitor_gets_a_sign_in_link_instead(client, channel):
    video = VideoFactory(channel=channel)

    page = page_of(client, video)

    assert BUTTON not in page
    assert f'{SIGN_IN} href="/accounts/login?next=/videos/{video.pk}"' in page


@pytest.mark.parametrize("persona", ["viewer", "subscriber"])
def test_someone_who_cannot_watch_a_sponsor_video_gets_no_button(client, channel, persona, request):
    video = VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR)

    page = page_of(client, video, request.getfixturevalue(persona))

    assert BUTTON not in page
    assert SIGN_IN not in page


def test_anonymous_visitor_of_a_sponsor_video_gets_no_watch_together_link(client, channel):
    video = VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR)

    page = page_of(client, video)

    assert SIGN_IN not in page


@pytest.mark.parametrize("persona", ["sponsor", "author"])
def test_sponsor_and_owner_of_a_sponsor_video_get_the_button(client, channel, persona, request):
    video = VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR)

    assert BUTTON in page_of(client, video, request.getfixturevalue(persona))


def test_a_video_still_processing_has_no_button_even_for_its_owner(client, channel, author):
    video = VideoFactory(channel=channel, status=VideoStatus.PROCESSING)

    assert BUTTON not in page_of(client, video, author)
