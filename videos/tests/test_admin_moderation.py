"""Moderators hide and unhide videos in the admin; a hidden video leaves listings and playback."""

import pytest
from django.test import Client

from videohost.testing import assert_error_envelope
from videos.models import Video
from videos.tests.helpers import streamed_bytes

CHANGELIST = "/admin/videos/video/"


@pytest.fixture
def moderator_browser(moderator) -> Client:
    browser = Client()
    browser.force_login(moderator)
    return browser


def run_action(browser: Client, action: str, *videos: Video):
    return browser.post(
        CHANGELIST, {"action": action, "_selected_action": [video.pk for video in videos]}
    )


def test_moderator_sees_the_video_list_with_thumbnails(moderator_browser, make_video, channel):
    video = make_video(title="Sunset timelapse")
    video.thumbnail.save("videos/thumb-test.jpg", video.file, save=True)  # any bytes will do
    response = moderator_browser.get(CHANGELIST)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Sunset timelapse" in page
    assert f'<img src="{video.thumbnail_url}"' in page
    assert channel.title.replace("'", "&#x27;") in page


def test_moderator_search_finds_by_channel_title(moderator_browser, make_video, stranger):
    from videohost.testing import VideoFactory

    make_video(title="Alice video")
    VideoFactory(channel=stranger.channel, title="Bob video")
    page = moderator_browser.get(CHANGELIST, {"q": "Garage"}).content.decode()
    assert "Bob video" in page
    assert "Alice video" not in page


def test_hidden_video_leaves_the_list_and_its_stream_is_refused(
    moderator_browser, make_video, client_for, viewer, author, clip
):
    video = make_video(title="Offending", access_level="public")
    kept = make_video(title="Fine")

    response = run_action(moderator_browser, "hide_videos", video)
    assert response.status_code == 302

    video.refresh_from_db()
    assert video.is_hidden
    titles = [item["title"] for item in client_for(viewer).get("/api/videos").json()["results"]]
    assert titles == [kept.title]
    stream = client_for(viewer).get(f"/api/videos/{video.pk}/stream", HTTP_ACCEPT="video/mp4")
    assert_error_envelope(stream, 404, "NOT_FOUND")
    assert_error_envelope(client_for(None).get(f"/api/videos/{video.pk}"), 404, "NOT_FOUND")

    # Its owner can still see and play it (to understand what happened).
    own = client_for(author).get(f"/api/videos/{video.pk}/stream")
    assert own.status_code == 200
    assert streamed_bytes(own) == clip


def test_unhide_puts_the_video_back(moderator_browser, make_video, client_for, viewer):
    video = make_video(title="Reinstated", is_hidden=True)
    run_action(moderator_browser, "unhide_videos", video)
    video.refresh_from_db()
    assert not video.is_hidden
    assert client_for(viewer).get(f"/api/videos/{video.pk}/stream").status_code == 200


def test_moderator_hides_from_the_change_form(moderator_browser, make_video):
    video = make_video(title="Keep my title")
    response = moderator_browser.post(
        f"{CHANGELIST}{video.pk}/change/", {"is_hidden": "on", "title": "Vandalised"}
    )
    assert response.status_code == 302
    video.refresh_from_db()
    assert video.is_hidden
    assert video.title == "Keep my title"  # read-only in the admin: authors own their titles


def test_videos_cannot_be_added_in_the_admin(moderator_browser, db):
    assert moderator_browser.get(f"{CHANGELIST}add/").status_code == 403


def test_non_staff_users_cannot_moderate(client, viewer, author, make_video):
    video = make_video()
    for user in (viewer, author):
        client.force_login(user)
        response = run_action(client, "hide_videos", video)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    video.refresh_from_db()
    assert not video.is_hidden


def test_the_video_list_page_runs_the_same_queries_for_1_and_30_videos(client, moderator, channel):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from videohost.testing import VideoFactory

    client.force_login(moderator)
    counts = []
    for total in (1, 30):
        VideoFactory.create_batch(total - Video.objects.count(), channel=channel, with_file=False)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CHANGELIST).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
