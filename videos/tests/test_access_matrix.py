"""Who may watch what, and who sees ads: every persona × access level, against a written table.

The expectations are typed out from API.md's rules, never computed with the policy functions,
so a wrong rule in videos/policies.py fails here. The table guards the JSON (detail and list)
and the bytes (/stream) alike.
"""

import pytest

from videohost.testing import assert_error_envelope
from videos.models import AccessLevel
from videos.policies import ANONYMOUS, Viewer, can_watch, show_ads
from videos.selectors import viewer_for
from videos.tests.helpers import streamed_bytes

PERSONAS = ["anonymous", "viewer", "subscriber", "sponsor", "owner", "staff"]

# (persona, access level of a has_ads=True video, can_watch, show_ads, /stream status)
TABLE = [
    ("anonymous", "public", True, True, 200),
    ("viewer", "public", True, True, 200),
    ("subscriber", "public", True, True, 200),
    ("sponsor", "public", True, False, 200),
    ("owner", "public", True, False, 200),
    ("staff", "public", True, True, 200),
    ("anonymous", "subscriber", False, False, 401),
    ("viewer", "subscriber", False, False, 403),
    ("subscriber", "subscriber", True, False, 200),
    ("sponsor", "subscriber", True, False, 200),
    ("owner", "subscriber", True, False, 200),
    ("staff", "subscriber", True, False, 200),
    ("anonymous", "sponsor", False, False, 401),
    ("viewer", "sponsor", False, False, 403),
    ("subscriber", "sponsor", False, False, 403),
    ("sponsor", "sponsor", True, False, 200),
    ("owner", "sponsor", True, False, 200),
    ("staff", "sponsor", True, False, 200),
]

# The same personas as the policy functions see them.
VIEWERS = {
    "anonymous": ANONYMOUS,
    "viewer": Viewer(is_authenticated=True),
    "subscriber": Viewer(is_authenticated=True, is_subscribed=True),
    "sponsor": Viewer(is_authenticated=True, is_subscribed=True, is_sponsor=True),
    "owner": Viewer(is_authenticated=True, is_owner=True),
    "staff": Viewer(is_authenticated=True, is_staff=True),
}

FIXTURE_OF = {
    "viewer": "viewer",
    "subscriber": "subscriber",
    "sponsor": "sponsor",
    "owner": "author",
    "staff": "moderator",
}


@pytest.fixture
def cast(request, author, viewer, subscriber, sponsor, moderator):
    """Every persona exists in every test; returns persona name → user (None if anonymous)."""
    users = {name: request.getfixturevalue(fixture) for name, fixture in FIXTURE_OF.items()}
    return {"anonymous": None, **users}


@pytest.fixture
def videos(make_video):
    """One has_ads=True video per access level, all in Alice's channel."""
    return {
        level: make_video(title=f"{level} video", access_level=level, has_ads=True)
        for level in AccessLevel.values
    }


def test_the_table_covers_every_persona_and_access_level():
    assert {(persona, level) for persona, level, *_ in TABLE} == {
        (persona, level) for persona in PERSONAS for level in AccessLevel.values
    }


@pytest.mark.parametrize(("persona", "level", "watch", "ads", "_status"), TABLE)
def test_policy_functions_follow_the_table(persona, level, watch, ads, _status):
    assert can_watch(access_level=level, viewer=VIEWERS[persona]) is watch
    assert show_ads(has_ads=True, access_level=level, viewer=VIEWERS[persona]) is ads


@pytest.mark.parametrize("persona", PERSONAS)
def test_viewer_for_describes_each_persona_as_the_table_assumes(persona, cast, channel):
    assert viewer_for(cast[persona], channel) == VIEWERS[persona]


@pytest.mark.parametrize(("persona", "level", "watch", "ads", "_status"), TABLE)
def test_video_detail_reports_the_callers_access(
    persona, level, watch, ads, _status, cast, videos, client_for
):
    video = videos[level]
    response = client_for(cast[persona]).get(f"/api/videos/{video.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["can_watch"] is watch
    assert body["show_ads"] is ads
    assert body["stream_url"] == (f"/api/videos/{video.pk}/stream" if watch else None)
    assert body["hls_url"] is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_video_list_reports_the_callers_access_for_every_level(persona, cast, videos, client_for):
    response = client_for(cast[persona]).get("/api/videos")
    assert response.status_code == 200
    listed = {item["access_level"]: item for item in response.json()["results"]}
    assert set(listed) == set(AccessLevel.values)  # every level is listed, watchable or not
    for row_persona, level, watch, ads, _status in TABLE:
        if row_persona != persona:
            continue
        assert listed[level]["can_watch"] is watch, level
        assert listed[level]["show_ads"] is ads, level
        assert (listed[level]["stream_url"] is not None) is watch, level


@pytest.mark.parametrize(("persona", "level", "_watch", "_ads", "status"), TABLE)
def test_stream_bytes_follow_the_table(
    persona, level, _watch, _ads, status, cast, videos, client_for, clip
):
    response = client_for(cast[persona]).get(
        f"/api/videos/{videos[level].pk}/stream", HTTP_ACCEPT="video/mp4"
    )
    if status == 200:
        assert response.status_code == 200
        assert response["Content-Type"] == "video/mp4"
        assert streamed_bytes(response) == clip
    else:
        code = {401: "UNAUTHORIZED", 403: "FORBIDDEN"}[status]
        assert_error_envelope(response, status, code)
        assert clip[:64] not in response.content


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_public_video_without_ads_shows_no_ads_to_anyone(persona, cast, make_video, client_for):
    video = make_video(access_level="public", has_ads=False)
    assert show_ads(has_ads=False, access_level="public", viewer=VIEWERS[persona]) is False
    body = client_for(cast[persona]).get(f"/api/videos/{video.pk}").json()
    assert body["show_ads"] is False
    assert body["can_watch"] is True
