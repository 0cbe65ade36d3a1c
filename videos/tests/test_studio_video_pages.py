"""The studio's edit and delete pages for one video: the owner only."""

import pytest
from django.urls import reverse

from videohost.testing import VideoFactory
from videos.models import AccessLevel, Video

pytestmark = pytest.mark.django_db


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, title="Original title", description="Old")


def test_owner_sees_the_edit_form_filled_with_the_video(client, author, video):
    client.force_login(author)

    page = client.get(reverse("studio_video_edit", args=[video.pk])).content.decode()

    assert 'value="Original title"' in page
    assert 'id="id_access_level"' in page
    assert 'id="id_has_ads"' in page


def test_owner_edits_title_access_and_ads(client, author, video):
    client.force_login(author)

    response = client.post(
        reverse("studio_video_edit", args=[video.pk]),
        {"title": "New title", "description": "New", "access_level": "sponsor", "has_ads": ""},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("studio")
    video.refresh_from_db()
    assert (video.title, video.description, video.access_level, video.has_ads) == (
        "New title",
        "New",
        AccessLevel.SPONSOR,
        False,
    )


def test_edit_with_a_blank_title_shows_the_error_and_changes_nothing(client, author, video):
    client.force_login(author)

    response = client.post(
        reverse("studio_video_edit", args=[video.pk]),
        {"title": "", "description": "x", "access_level": "public"},
    )

    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    video.refresh_from_db()
    assert video.title == "Original title"


@pytest.mark.parametrize("persona", ["stranger", "viewer", "moderator"])
def test_someone_else_cannot_open_or_post_the_edit_page(client, video, persona, request):
    client.force_login(request.getfixturevalue(persona))
    url = reverse("studio_video_edit", args=[video.pk])

    assert client.get(url).status_code == 404
    assert client.post(url, {"title": "Hacked", "access_level": "public"}).status_code == 404
    video.refresh_from_db()
    assert video.title == "Original title"


def test_owner_confirms_then_deletes_a_video(client, author, video):
    client.force_login(author)
    url = reverse("studio_video_delete", args=[video.pk])

    confirm = client.get(url).content.decode()
    assert "Delete “Original title”?" in confirm
    response = client.post(url)

    assert response.status_code == 302
    assert not Video.objects.filter(pk=video.pk).exists()


@pytest.mark.parametrize("persona", ["stranger", "viewer", "moderator"])
def test_someone_else_cannot_delete_the_video(client, video, persona, request):
    client.force_login(request.getfixturevalue(persona))

    response = client.post(reverse("studio_video_delete", args=[video.pk]))

    assert response.status_code == 404
    assert Video.objects.filter(pk=video.pk).exists()


def test_anonymous_visitors_are_sent_to_sign_in_from_edit_and_delete(client, video):
    for name in ("studio_video_edit", "studio_video_delete"):
        response = client.post(reverse(name, args=[video.pk]))
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login")
    assert Video.objects.filter(pk=video.pk, title="Original title").exists()
