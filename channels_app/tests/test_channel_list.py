import pytest
from django.contrib.auth.models import AnonymousUser

from channels_app.models import Channel
from channels_app.selectors import channel_search, channels_with_counts, viewer_subscription
from videohost.testing import ChannelFactory, SubscriptionFactory, UserFactory, VideoFactory
from videos.models import AccessLevel, VideoStatus


def by_title(response) -> dict[str, dict]:
    assert response.status_code == 200, response.content
    return {row["title"]: row for row in response.json()["results"]}


def test_the_list_is_paginated_and_public(api_client, channel, stranger):
    response = api_client.get("/api/channels")

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    assert [row["title"] for row in body["results"]] == ["Bob's Garage", "Alice's Workshop"]


def test_counts_cover_subscribers_sponsors_and_listed_videos(
    api_client, channel, subscriber, sponsor, stranger
):
    SubscriptionFactory(channel=channel, is_sponsor=True)
    SubscriptionFactory(channel=stranger.channel)
    VideoFactory.create_batch(2, channel=channel, with_file=False)
    VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR, with_file=False)
    VideoFactory(channel=channel, status=VideoStatus.PROCESSING, with_file=False)
    VideoFactory(channel=channel, status=VideoStatus.FAILED, with_file=False)
    VideoFactory(channel=channel, is_hidden=True, with_file=False)
    VideoFactory(channel=stranger.channel, with_file=False)

    rows = by_title(api_client.get("/api/channels/"))

    alice, bob = rows["Alice's Workshop"], rows["Bob's Garage"]
    assert (alice["subscribers_count"], alice["sponsors_count"], alice["videos_count"]) == (3, 2, 3)
    assert (bob["subscribers_count"], bob["sponsors_count"], bob["videos_count"]) == (1, 0, 1)


def test_a_channel_without_anything_counts_zero(api_client, channel):
    row = by_title(api_client.get("/api/channels"))["Alice's Workshop"]

    assert (row["subscribers_count"], row["sponsors_count"], row["videos_count"]) == (0, 0, 0)


def test_each_caller_sees_only_their_own_subscription(client_for, channel, subscriber, stranger):
    SubscriptionFactory(user=stranger, channel=channel, is_sponsor=True)

    as_sam = by_title(client_for(subscriber).get("/api/channels"))
    as_bob = by_title(client_for(stranger).get("/api/channels"))

    assert as_sam["Alice's Workshop"]["subscription"]["is_sponsor"] is False
    assert as_sam["Bob's Garage"]["subscription"] is None
    assert as_bob["Alice's Workshop"]["subscription"]["is_sponsor"] is True
    assert as_bob["Bob's Garage"]["subscription"] is None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("workshop", ["Alice's Workshop"]),  # title, any case
        ("ENGINES", ["Bob's Garage"]),  # description
        ("ali", ["Alice's Workshop"]),  # owner's username
        ("'s", ["Bob's Garage", "Alice's Workshop"]),
        ("nothing like it", []),
        ("", ["Bob's Garage", "Alice's Workshop"]),
    ],
)
def test_q_searches_title_description_and_owner(api_client, channel, stranger, query, expected):
    stranger.channel.description = "Old engines, rebuilt."
    stranger.channel.save()

    response = api_client.get("/api/channels", {"q": query})

    assert [row["title"] for row in response.json()["results"]] == expected


def test_the_selectors_give_the_viewer_subscription_without_more_queries(
    django_assert_num_queries, channel, subscriber, stranger
):
    with django_assert_num_queries(2):  # the channels, then the caller's subscriptions
        channels = {c.title: c for c in channel_search(query="", user=subscriber)}
        assert viewer_subscription(channels["Alice's Workshop"]).user_id == subscriber.pk
        assert viewer_subscription(channels["Bob's Garage"]) is None


def test_the_selector_gives_no_subscription_to_anonymous(channel, subscriber):
    found = channels_with_counts(user=AnonymousUser()).get(pk=channel.pk)

    assert viewer_subscription(found) is None
    assert found.subscribers_count == 1


def add_channels_with_activity(n: int) -> None:
    for channel in ChannelFactory.create_batch(n):
        SubscriptionFactory.create_batch(2, channel=channel)
        SubscriptionFactory(channel=channel, is_sponsor=True)
        VideoFactory(channel=channel, with_file=False)


def test_listing_channels_anonymously_costs_the_same_queries_for_1_and_30(
    api_client, db, assert_flat_queries
):
    # count + page
    assert_flat_queries(
        expected=2,
        add_rows=add_channels_with_activity,
        fetch=lambda: api_client.get("/api/channels", {"page_size": 100}),
    )


def test_listing_channels_signed_in_costs_the_same_queries_for_1_and_30(
    client_for, viewer, assert_flat_queries
):
    client = client_for(viewer)

    def add_rows(n: int) -> None:
        add_channels_with_activity(n)
        # The caller follows every channel, so each row carries a subscription.
        for channel in Channel.objects.exclude(subscriptions__user=viewer):
            SubscriptionFactory(user=viewer, channel=channel)

    # token + user, count, page, the caller's subscriptions
    assert_flat_queries(
        expected=5,
        add_rows=add_rows,
        fetch=lambda: client.get("/api/channels", {"page_size": 100}),
    )


def test_many_subscribers_do_not_multiply_the_video_count(api_client, channel):
    for user in UserFactory.create_batch(3):
        SubscriptionFactory(user=user, channel=channel, is_sponsor=True)
    VideoFactory.create_batch(2, channel=channel, with_file=False)

    row = by_title(api_client.get("/api/channels"))["Alice's Workshop"]

    assert (row["subscribers_count"], row["sponsors_count"], row["videos_count"]) == (3, 3, 2)
