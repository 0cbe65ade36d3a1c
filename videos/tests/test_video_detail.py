"""GET/PATCH /api/videos/{id}: unlisted videos exist only for owner and staff; only the owner
edits."""

import pytest

from videohost.errors import NotAllowed
from videohost.testing import assert_error_envelope
from videos.models import Video, VideoStatus
from videos.services import video_record_view, video_set_hidden, video_update

UNLISTED = [
    pytest.param({"status": VideoStatus.PROCESSING}, id="processing"),
    pytest.param({"status": VideoStatus.FAILED}, id="failed"),
    pytest.param({"is_hidden": True}, id="hidden"),
]


def test_listed_video_detail_is_public(client_for, make_video):
    video = make_video(title="Hello", description="World")
    response = client_for(None).get(f"/api/videos/{video.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == video.pk
    assert body["title"] == "Hello"
    assert body["duration"] == 3.0
    assert body["status"] == "ready"


def test_detail_path_with_trailing_slash_works(client_for, make_video):
    video = make_video()
    assert client_for(None).get(f"/api/videos/{video.pk}/").status_code == 200


@pytest.mark.parametrize("state", UNLISTED)
@pytest.mark.parametrize("persona", ["anonymous", "viewer", "subscriber", "stranger"])
def test_unlisted_video_is_not_found_for_others(state, persona, request, client_for, make_video):
    video = make_video(access_level="public", **state)
    user = None if persona == "anonymous" else request.getfixturevalue(persona)
    assert_error_envelope(client_for(user).get(f"/api/videos/{video.pk}"), 404, "NOT_FOUND")
    response = client_for(user).get(f"/api/videos/{video.pk}/stream", HTTP_ACCEPT="video/mp4")
    assert_error_envelope(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("state", UNLISTED)
@pytest.mark.parametrize("persona", ["author", "moderator"])
def test_unlisted_video_is_visible_to_owner_and_staff(
    state, persona, request, client_for, make_video
):
    video = make_video(access_level="sponsor", **state)
    client = client_for(request.getfixturevalue(persona))
    response = client.get(f"/api/videos/{video.pk}")
    assert response.status_code == 200
    assert response.json()["can_watch"] is True


def test_owner_edits_their_video(client_for, author, make_video):
    video = make_video(title="Old", access_level="public", has_ads=False)
    response = client_for(author).patch(
        f"/api/videos/{video.pk}",
        {"title": "New", "access_level": "sponsor", "has_ads": True},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["access_level"], body["has_ads"]) == ("New", "sponsor", True)
    video.refresh_from_db()
    assert (video.title, video.access_level, video.has_ads) == ("New", "sponsor", True)
    assert video.description == "A test video."  # untouched


@pytest.mark.parametrize("persona", ["viewer", "subscriber", "sponsor", "stranger", "moderator"])
def test_someone_else_cannot_edit_a_video(persona, request, client_for, make_video):
    video = make_video(title="Mine")
    client = client_for(request.getfixturevalue(persona))
    response = client.patch(f"/api/videos/{video.pk}", {"title": "Theirs"}, format="json")
    assert_error_envelope(response, 403, "FORBIDDEN")
    video.refresh_from_db()
    assert video.title == "Mine"


def test_anonymous_cannot_edit_a_video(client_for, make_video):
    video = make_video()
    response = client_for(None).patch(f"/api/videos/{video.pk}", {"title": "x"}, format="json")
    assert_error_envelope(response, 401, "UNAUTHORIZED")


@pytest.mark.parametrize(
    "payload", [{"title": ""}, {"access_level": "everyone"}, {"description": "x" * 5001}]
)
def test_invalid_edit_is_a_bad_request_with_details(payload, client_for, author, make_video):
    video = make_video()
    response = client_for(author).patch(f"/api/videos/{video.pk}", payload, format="json")
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert set(error["details"]) == set(payload)


def test_put_is_not_part_of_the_contract(client_for, author, make_video):
    video = make_video()
    response = client_for(author).put(f"/api/videos/{video.pk}", {"title": "x"}, format="json")
    assert_error_envelope(response, 405, "METHOD_NOT_ALLOWED")


def test_update_service_refuses_someone_else(viewer, make_video):
    with pytest.raises(NotAllowed):
        video_update(video=make_video(), actor=viewer, title="x")


def test_only_staff_can_hide_a_video(author, moderator, make_video):
    video = make_video()
    with pytest.raises(NotAllowed):
        video_set_hidden(video=video, hidden=True, by=author)
    video_set_hidden(video=video, hidden=True, by=moderator)
    video.refresh_from_db()
    assert video.is_hidden


def test_recording_views_adds_one_each_time(make_video):
    video = make_video(view_count=7)
    video_record_view(video=video)
    video_record_view(video=Video.objects.get(pk=video.pk))
    assert video.view_count == 8  # the instance shows its own view
    video.refresh_from_db()
    assert video.view_count == 9
