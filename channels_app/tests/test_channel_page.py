"""The public channel page: header, counts, subscribe controls and its listed videos."""

import pytest
from django.urls import reverse

from videohost.testing import SubscriptionFactory, VideoFactory
from videos.models import AccessLevel, VideoStatus

pytestmark = pytest.mark.django_db


def page_of(client, channel, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("channel_detail", args=[channel.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_channel_page_shows_title_owner_description_and_counts(
    client, channel, subscriber, sponsor
):
    channel.description = "Wood <em>and</em> tools"
    channel.save()
    VideoFactory(channel=channel, with_file=False)

    page = page_of(client, channel)

    assert "Alice&#x27;s Workshop" in page
    assert "@alice" in page
    assert "Wood &lt;em&gt;and&lt;/em&gt; tools" in page
    assert "<strong>2</strong> subscribers" in page
    assert "<strong>1</strong> sponsor" in page
    assert "<strong>1</strong> video" in page


def test_channel_page_lists_only_its_listed_videos_as_cards(client, channel, stranger):
    VideoFactory(channel=channel, title="Mine and ready", with_file=False)
    VideoFactory(
        channel=channel, title="Mine but processing", status=VideoStatus.PROCESSING, with_file=False
    )
    VideoFactory(channel=channel, title="Mine but hidden", is_hidden=True, with_file=False)
    VideoFactory(channel=stranger.channel, title="Someone else's", with_file=False)

    page = page_of(client, channel)

    assert "Mine and ready" in page
    assert "Mine but processing" not in page
    assert "Mine but hidden" not in page
    assert "Someone else" not in page
    assert page.count('<article class="card') == 1


def test_channel_page_locks_sponsor_videos_for_a_subscriber(client, channel, subscriber):
    VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR, with_file=False)

    assert "Sponsors only" in page_of(client, channel, subscriber)


def test_subscribe_controls_follow_who_is_looking(
    client, channel, viewer, subscriber, sponsor, author
):
    assert "Sign in to subscribe" in page_of(client, channel)
    assert 'data-subscribe-action="subscribe"' in page_of(client, channel, viewer)

    page = page_of(client, channel, subscriber)
    subscription = subscriber.subscriptions.get()
    assert f'data-subscription-id="{subscription.pk}"' in page
    assert 'data-subscribe-action="sponsor"' in page

    assert 'data-subscribe-action="unsponsor"' in page_of(client, channel, sponsor)

    page = page_of(client, channel, author)
    assert "data-subscribe-action" not in page
    assert "Manage channel" in page
    assert 'src="/static/js/subscribe.js"' in page


def test_channel_page_query_count_is_the_same_for_one_and_thirty_videos(
    client, channel, viewer, django_assert_num_queries
):
    SubscriptionFactory(user=viewer, channel=channel)
    client.force_login(viewer)
    # session, user, channel with counts, the viewer's subscription, count, page, subscriptions
    for more in (1, 29):
        for _ in range(more):
            VideoFactory(channel=channel, with_file=False)
        with django_assert_num_queries(7):
            response = client.get(reverse("channel_detail", args=[channel.pk]))
        assert response.status_code == 200


def test_unknown_channel_is_a_404_page(client, db):
    response = client.get("/channels/999999")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()
