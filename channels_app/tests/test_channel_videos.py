import pytest

from videohost.testing import SubscriptionFactory, VideoFactory, assert_error_envelope
from videos.models import AccessLevel, VideoStatus


@pytest.mark.parametrize("path", ["/api/channels/{}/videos", "/api/channels/{}/videos/"])
def test_a_channel_lists_its_ready_visible_videos(api_client, channel, stranger, path):
    shown = VideoFactory(channel=channel, title="Shown", with_file=False)
    VideoFactory(channel=channel, status=VideoStatus.PROCESSING, with_file=False)
    VideoFactory(channel=channel, status=VideoStatus.FAILED, with_file=False)
    VideoFactory(channel=channel, is_hidden=True, with_file=False)
    VideoFactory(channel=stranger.channel, with_file=False)

    response = api_client.get(path.format(channel.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 1
    [video] = body["results"]
    assert video["id"] == shown.pk
    assert video["channel"]["id"] == channel.pk
    assert video["channel"]["owner"]["username"] == "alice"


def test_the_owner_sees_the_same_listed_videos_as_everyone(client_for, author, channel):
    VideoFactory(channel=channel, with_file=False)
    VideoFactory(channel=channel, status=VideoStatus.PROCESSING, with_file=False)

    response = client_for(author).get(f"/api/channels/{channel.pk}/videos")

    assert response.json()["count"] == 1


def test_can_watch_follows_the_callers_relation_to_the_channel(
    client_for, channel, viewer, subscriber, sponsor
):
    VideoFactory(channel=channel, title="For sponsors", access_level=AccessLevel.SPONSOR)
    VideoFactory(channel=channel, title="For subscribers", access_level=AccessLevel.SUBSCRIBER)
    VideoFactory(channel=channel, title="For all", access_level=AccessLevel.PUBLIC, has_ads=True)

    def rows(user) -> dict[str, tuple[bool, bool]]:
        results = client_for(user).get(f"/api/channels/{channel.pk}/videos").json()["results"]
        return {row["title"]: (row["can_watch"], row["show_ads"]) for row in results}

    assert rows(None) == {
        "For sponsors": (False, False),
        "For subscribers": (False, False),
        "For all": (True, True),
    }
    assert rows(viewer)["For subscribers"] == (False, False)
    assert rows(subscriber) == {
        "For sponsors": (False, False),
        "For subscribers": (True, False),
        "For all": (True, True),
    }
    assert rows(sponsor) == {
        "For sponsors": (True, False),
        "For subscribers": (True, False),
        "For all": (True, False),
    }


def test_an_unknown_channel_has_no_videos_to_list(api_client, db):
    assert_error_envelope(api_client.get("/api/channels/999999/videos"), 404, "NOT_FOUND")


def test_listing_a_channels_videos_costs_the_same_queries_for_1_and_30(
    client_for, channel, subscriber, assert_flat_queries
):
    client = client_for(subscriber)
    SubscriptionFactory(user=subscriber)  # a second followed channel, so the map has two rows

    def add_rows(n: int) -> None:
        for index in range(n):
            level = list(AccessLevel)[index % 3]
            VideoFactory(channel=channel, access_level=level, has_ads=True, with_file=False)

    # token + user, the channel, count, page, the caller's subscriptions
    assert_flat_queries(
        expected=6,
        add_rows=add_rows,
        fetch=lambda: client.get(f"/api/channels/{channel.pk}/videos", {"page_size": 100}),
    )


def test_listing_a_channels_videos_anonymously_costs_the_same_queries_for_1_and_30(
    api_client, channel, assert_flat_queries
):
    # the channel, count, page
    assert_flat_queries(
        expected=3,
        add_rows=lambda n: VideoFactory.create_batch(n, channel=channel, with_file=False),
        fetch=lambda: api_client.get(f"/api/channels/{channel.pk}/videos", {"page_size": 100}),
    )
