"""GET /api/videos: only listed videos, filters, ordering, and a query count that does not grow."""

import pytest

from channels_app.models import Subscription
from videohost.testing import ChannelFactory, VideoFactory, assert_error_envelope
from videos.models import Video, VideoStatus


def titles(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["title"] for item in response.json()["results"]]


def test_only_ready_and_unhidden_videos_are_listed(client_for, author, make_video, moderator):
    make_video(title="Ready")
    make_video(title="Processing", status=VideoStatus.PROCESSING)
    make_video(title="Failed", status=VideoStatus.FAILED)
    make_video(title="Hidden", is_hidden=True)
    # Not even their owner or staff see unlisted videos in the public listing.
    for user in (None, author, moderator):
        assert titles(client_for(user).get("/api/videos")) == ["Ready"]


def test_list_is_paginated_with_the_contract_keys(client_for, make_video):
    for n in range(3):
        make_video(title=f"V{n}")
    body = client_for(None).get("/api/videos?page_size=2").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_list_item_has_exactly_the_contract_fields(client_for, make_video):
    make_video()
    (item,) = client_for(None).get("/api/videos").json()["results"]
    assert set(item) == {
        "id",
        "channel",
        "title",
        "description",
        "duration",
        "access_level",
        "has_ads",
        "status",
        "view_count",
        "created_at",
        "thumbnail_url",
        "can_watch",
        "show_ads",
        "stream_url",
        "hls_url",
    }
    assert set(item["channel"]) == {"id", "title", "owner"}
    assert set(item["channel"]["owner"]) == {
        "id",
        "username",
        "display_name",
        "avatar_url",
        "is_author",
    }


def test_filter_by_channel(client_for, make_video, stranger):
    make_video(title="Alice's")
    VideoFactory(channel=stranger.channel, title="Bob's")
    response = client_for(None).get(f"/api/videos?channel={stranger.channel.pk}")
    assert titles(response) == ["Bob's"]


@pytest.mark.parametrize("channel_id", ["0", "-1", str(2**63), str(-(2**63) - 1), "9" * 30])
def test_a_channel_id_no_channel_can_have_lists_nothing(client_for, make_video, channel_id):
    # Found by Schemathesis with random cases: past 64 bits, SQLite refused the query (a 500).
    make_video(title="Alice's")
    response = client_for(None).get(f"/api/videos?channel={channel_id}")
    assert response.status_code == 200
    assert titles(response) == []


def test_filter_by_access_level(client_for, make_video):
    make_video(title="Open", access_level="public")
    make_video(title="Members", access_level="subscriber")
    make_video(title="Patrons", access_level="sponsor")
    assert titles(client_for(None).get("/api/videos?access_level=sponsor")) == ["Patrons"]


def test_search_matches_title_or_description_case_insensitively(client_for, make_video):
    make_video(title="Fixing a BIKE", description="wheels")
    make_video(title="Baking", description="A bike-shaped cake")
    make_video(title="Gardening", description="roses")
    assert sorted(titles(client_for(None).get("/api/videos?q=bike"))) == ["Baking", "Fixing a BIKE"]


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("", ["Newest", "Middle", "Oldest"]),
        ("-created_at", ["Newest", "Middle", "Oldest"]),
        ("-view_count", ["Middle", "Oldest", "Newest"]),
        ("title", ["Middle", "Newest", "Oldest"]),
    ],
)
def test_ordering(ordering, expected, client_for, make_video):
    for title, views in [("Oldest", 5), ("Middle", 50), ("Newest", 0)]:
        make_video(title=title, view_count=views)
    query = f"?ordering={ordering}" if ordering else ""
    assert titles(client_for(None).get(f"/api/videos{query}")) == expected


@pytest.mark.parametrize("ordering", ["created_at", "view_count", "-title", "password", "id"])
def test_other_orderings_are_a_bad_request(ordering, client_for, db):
    error = assert_error_envelope(
        client_for(None).get(f"/api/videos?ordering={ordering}"), 400, "BAD_REQUEST"
    )
    assert "ordering" in error["details"]


@pytest.mark.parametrize("query", ["channel=abc", "access_level=secret"])
def test_invalid_filters_are_a_bad_request(query, client_for, db):
    error = assert_error_envelope(client_for(None).get(f"/api/videos?{query}"), 400, "BAD_REQUEST")
    assert query.split("=")[0] in error["details"]


@pytest.fixture
def many_channels_subscribed(sponsor):
    """30 videos in 30 channels, the caller subscribed to some of them."""

    def make(count: int) -> None:
        for n in range(count):
            video = VideoFactory(channel=ChannelFactory(), access_level="subscriber", has_ads=True)
            if n % 2:
                Subscription.objects.create(user=sponsor, channel=video.channel)

    return make


def test_list_costs_the_same_queries_for_one_and_thirty_videos(
    client_for, sponsor, many_channels_subscribed, django_assert_num_queries
):
    client = client_for(sponsor)
    many_channels_subscribed(1)
    # Token lookup, its user, the page count, the page with channels and owners joined, and
    # the caller's subscriptions (once for the whole page).
    with django_assert_num_queries(5):
        response = client.get("/api/videos?page_size=50")
    assert len(response.json()["results"]) == 1

    many_channels_subscribed(29)
    with django_assert_num_queries(5):
        response = client.get("/api/videos?page_size=50")
    results = response.json()["results"]
    assert len(results) == 30
    # Subscribed to the channels of the odd-numbered videos of the second batch: 1, 3, … 27.
    assert sum(item["can_watch"] for item in results) == 14


def test_anonymous_list_costs_the_same_queries_for_one_and_thirty_videos(
    client_for, make_video, django_assert_num_queries
):
    make_video()
    with django_assert_num_queries(2):
        assert len(client_for(None).get("/api/videos?page_size=50").json()["results"]) == 1
    for _ in range(29):
        make_video()
    with django_assert_num_queries(2):
        assert len(client_for(None).get("/api/videos?page_size=50").json()["results"]) == 30
    assert Video.objects.count() == 30
