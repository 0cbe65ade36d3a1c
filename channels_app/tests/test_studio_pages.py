"""The studio ("My channel"): create, edit and delete one's channel; list one's videos."""

import pytest
from django.urls import reverse

from channels_app.models import Channel
from videohost.testing import UserFactory, VideoFactory
from videos.models import Video, VideoStatus

pytestmark = pytest.mark.django_db


def test_studio_sends_anonymous_visitors_to_sign_in(client):
    response = client.get(reverse("studio"))

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login?next=/studio")


def test_user_without_a_channel_sees_the_create_form(client):
    client.force_login(UserFactory())

    page = client.get(reverse("studio")).content.decode()

    assert 'id="id_title"' in page
    assert 'id="id_description"' in page
    assert "Create channel" in page


def test_user_creates_a_channel_and_becomes_an_author(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("studio"), {"title": "Cooking", "description": "Soups"})

    assert response.status_code == 302
    assert response["Location"] == reverse("studio")
    channel = Channel.objects.get(owner=user)
    assert (channel.title, channel.description) == ("Cooking", "Soups")
    user.refresh_from_db()
    assert user.is_author


def test_create_with_a_blank_title_shows_the_error_and_creates_nothing(client):
    user = UserFactory()
    client.force_login(user)

    response = client.post(reverse("studio"), {"title": "  ", "description": ""})

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    assert not Channel.objects.filter(owner=user).exists()


def test_studio_lists_all_own_videos_with_status_and_nobody_elses(
    client, author, channel, stranger
):
    VideoFactory(channel=channel, title="Ready one", with_file=False)
    VideoFactory(
        channel=channel, title="Encoding one", status=VideoStatus.PROCESSING, with_file=False
    )
    VideoFactory(
        channel=channel,
        title="Broken one",
        status=VideoStatus.FAILED,
        failure_reason="No video stream",
        with_file=False,
    )
    VideoFactory(channel=channel, title="Hidden one", is_hidden=True, with_file=False)
    VideoFactory(channel=stranger.channel, title="Bob's one", with_file=False)
    client.force_login(author)

    page = client.get(reverse("studio")).content.decode()

    for title in ("Ready one", "Encoding one", "Broken one", "Hidden one"):
        assert title in page
    assert "Bob" not in page.split("<main", 1)[1]
    assert "badge badge-processing" in page
    assert "badge badge-failed" in page
    assert "No video stream" in page
    assert "Hidden by a moderator" in page
    assert page.count("/edit") == 4


def test_owner_renames_the_channel_from_the_studio(client, author, channel):
    client.force_login(author)

    response = client.post(reverse("studio"), {"title": "Alice's Lab", "description": "New"})

    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.title, channel.description) == ("Alice's Lab", "New")


def test_owner_confirms_then_deletes_the_channel_with_its_videos(client, author, channel):
    video = VideoFactory(channel=channel, with_file=False)
    client.force_login(author)

    confirm = client.get(reverse("studio_channel_delete")).content.decode()
    assert "Delete the channel" in confirm
    response = client.post(reverse("studio_channel_delete"))

    assert response.status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert not Video.objects.filter(pk=video.pk).exists()


def test_delete_channel_only_ever_reaches_the_callers_own_channel(
    client, channel, viewer, stranger
):
    client.force_login(viewer)
    client.post(reverse("studio_channel_delete"))

    client.force_login(stranger)
    client.post(reverse("studio_channel_delete"))

    assert Channel.objects.filter(pk=channel.pk).exists()
    assert not Channel.objects.filter(owner=stranger).exists()
