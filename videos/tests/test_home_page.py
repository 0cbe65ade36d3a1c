"""The home page: the grid of listed videos, badges, locks, search and pagination."""

import pytest
from django.urls import reverse

from videohost.testing import VideoFactory
from videos.models import AccessLevel, VideoStatus

pytestmark = pytest.mark.django_db


def video(channel, **fields):
    fields.setdefault("with_file", False)
    return VideoFactory(channel=channel, **fields)


def test_home_lists_only_ready_unhidden_videos_with_their_access_badges(client, channel):
    video(channel, title="Public tour", access_level=AccessLevel.PUBLIC)
    video(channel, title="Members corner", access_level=AccessLevel.SUBSCRIBER)
    video(channel, title="Backstage pass", access_level=AccessLevel.SPONSOR)
    video(channel, title="Still encoding", status=VideoStatus.PROCESSING)
    video(channel, title="Broken upload", status=VideoStatus.FAILED)
    video(channel, title="Taken down", is_hidden=True)

    page = client.get(reverse("home")).content.decode()

    for title in ("Public tour", "Members corner", "Backstage pass"):
        assert title in page
    for title in ("Still encoding", "Broken upload", "Taken down"):
        assert title not in page
    assert 'class="badge badge-public"' in page
    assert 'class="badge badge-subscriber"' in page
    assert 'class="badge badge-sponsor"' in page
    assert page.count('<article class="card') == 3


def test_home_escapes_a_title_that_looks_like_a_script(client, channel):
    video(channel, title="<script>alert(1)</script>")

    page = client.get(reverse("home")).content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)</script>" not in page


def test_home_card_shows_duration_channel_link_and_view_count(client, channel):
    clip = video(channel, title="Long one", duration=754.4, view_count=1234)

    page = client.get(reverse("home")).content.decode()

    assert "12:34" in page
    assert f'href="/channels/{channel.pk}"' in page
    assert f'href="/videos/{clip.pk}"' in page
    assert "1,234 views" in page


def test_home_locks_sponsor_videos_for_a_plain_viewer_but_not_for_a_sponsor(
    client, channel, viewer, sponsor
):
    video(channel, title="Backstage pass", access_level=AccessLevel.SPONSOR)

    client.force_login(viewer)
    assert "Sponsors only" in client.get(reverse("home")).content.decode()
    client.force_login(sponsor)
    assert "Sponsors only" not in client.get(reverse("home")).content.decode()


def test_home_locks_subscriber_videos_for_anonymous_visitors(client, channel):
    video(channel, title="Members corner", access_level=AccessLevel.SUBSCRIBER)

    page = client.get(reverse("home")).content.decode()

    assert "Subscribers only" in page
    assert "card-locked" in page


def test_home_query_count_is_the_same_for_one_and_thirty_videos(
    client, channel, stranger, subscriber, django_assert_num_queries
):
    client.force_login(subscriber)
    # session, user, count, page of videos with channels, the caller's subscriptions
    for more in (1, 29):
        for index in range(more):
            video(
                channel if index % 2 else stranger.channel,
                access_level=[AccessLevel.PUBLIC, AccessLevel.SPONSOR][index % 2],
            )
        with django_assert_num_queries(5):
            response = client.get(reverse("home"))
        assert response.status_code == 200


def test_home_search_matches_titles_and_channel_names(client, channel, stranger):
    video(channel, title="Sharpening chisels")
    video(stranger.channel, title="Oil change")

    by_title = client.get(reverse("home"), {"q": "chisel"}).content.decode()
    by_channel = client.get(reverse("home"), {"q": "garage"}).content.decode()

    assert "Sharpening chisels" in by_title and "Oil change" not in by_title
    assert "Oil change" in by_channel and "Sharpening chisels" not in by_channel


def test_home_search_without_match_shows_the_empty_state_with_the_query_escaped(client, channel):
    video(channel, title="Sharpening chisels")

    page = client.get(reverse("home"), {"q": "<img src=x>"}).content.decode()

    assert "No videos match" in page
    assert "&lt;img src=x&gt;" in page
    assert "<img src=x>" not in page


def test_home_without_videos_shows_the_empty_state(client, db):
    page = client.get(reverse("home")).content.decode()

    assert "No videos yet" in page


def test_home_paginates_twenty_videos_per_page_newest_first(client, channel):
    videos = [video(channel, title=f"Episode {n:02d}") for n in range(21)]

    first = client.get(reverse("home")).content.decode()
    second = client.get(reverse("home"), {"page": 2}).content.decode()

    assert first.count('<article class="card') == 20
    assert "Episode 20" in first and "Episode 00" not in first
    assert second.count('<article class="card') == 1
    assert f'href="/videos/{videos[0].pk}"' in second
    assert "Page 2 of 2" in second
