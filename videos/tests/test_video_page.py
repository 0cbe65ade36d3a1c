"""The watch page: player or access message per persona, views, pre-roll, 404s."""

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from videohost.testing import VideoFactory
from videos.models import AccessLevel, Ad, VideoStatus

pytestmark = pytest.mark.django_db

PLAYER = '<video id="player"'


def page_of(client, video, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("video_detail", args=[video.pk]))
    assert response.status_code == 200
    return response.content.decode()


def stream_url(video) -> str:
    return f"/api/videos/{video.pk}/stream"


@pytest.fixture
def sponsor_video(channel):
    return VideoFactory(channel=channel, title="Backstage pass", access_level=AccessLevel.SPONSOR)


@pytest.fixture
def subscriber_video(channel):
    return VideoFactory(
        channel=channel, title="Members corner", access_level=AccessLevel.SUBSCRIBER
    )


@pytest.fixture
def public_video(channel):
    return VideoFactory(channel=channel, title="Public tour", description="Line one\nLine two")


@pytest.fixture
def active_ad(db):
    image = io.BytesIO()
    Image.new("RGB", (64, 36), (30, 120, 200)).save(image, format="PNG")
    ad = Ad(title="Sawdust & Co", target_url="https://ads.example.com/saw")
    ad.image.save("creative.png", ContentFile(image.getvalue()), save=False)
    ad.save()
    return ad


@pytest.mark.parametrize("persona", ["sponsor", "author", "moderator"])
def test_sponsor_only_video_plays_for_sponsor_owner_and_moderator(
    client, sponsor_video, persona, request
):
    page = page_of(client, sponsor_video, request.getfixturevalue(persona))

    assert PLAYER in page
    assert f'src="{stream_url(sponsor_video)}"' in page
    assert 'preload="metadata"' in page


@pytest.mark.parametrize("persona", ["viewer", "subscriber", "stranger"])
def test_sponsor_only_video_shows_non_sponsors_the_message_and_no_stream_url(
    client, sponsor_video, persona, request
):
    page = page_of(client, sponsor_video, request.getfixturevalue(persona))

    assert (
        "This video is for sponsors of Alice&#x27;s Workshop. Sponsor the channel to watch." in page
    )
    assert 'data-subscribe-action="sponsor"' in page
    assert "/stream" not in page
    assert "<video" not in page


def test_player_uses_the_thumbnail_as_poster(client, public_video):
    image = io.BytesIO()
    Image.new("RGB", (32, 18)).save(image, format="JPEG")
    public_video.thumbnail.save("thumb.jpg", ContentFile(image.getvalue()))

    page = page_of(client, public_video)

    assert f'poster="{public_video.thumbnail_url}"' in page


def test_sponsor_button_of_a_subscriber_upgrades_the_existing_subscription(
    client, sponsor_video, subscriber
):
    subscription = subscriber.subscriptions.get()

    page = page_of(client, sponsor_video, subscriber)

    button = (
        f'data-subscribe-action="sponsor" data-channel-id="{sponsor_video.channel_id}" '
        f'data-subscription-id="{subscription.pk}"'
    )
    assert button in page


def test_sponsor_only_video_asks_anonymous_visitors_to_sign_in(client, sponsor_video):
    page = page_of(client, sponsor_video)

    assert "This video is for sponsors of Alice&#x27;s Workshop. Sign in to watch." in page
    assert f'href="/accounts/login?next=/videos/{sponsor_video.pk}"' in page
    assert "/stream" not in page


def test_subscriber_video_plays_for_a_subscriber_and_asks_a_viewer_to_subscribe(
    client, subscriber_video, subscriber, viewer
):
    assert PLAYER in page_of(client, subscriber_video, subscriber)

    page = page_of(client, subscriber_video, viewer)
    assert "This video is for subscribers of Alice&#x27;s Workshop. Subscribe to watch." in page
    assert 'data-subscribe-action="subscribe"' in page
    assert "/stream" not in page


def test_public_video_plays_for_anonymous_visitors(client, public_video):
    page = page_of(client, public_video)

    assert PLAYER in page
    assert "Sign in to subscribe" in page


def test_video_page_shows_details_with_the_description_escaped_and_line_breaks_kept(
    client, channel, viewer
):
    video = VideoFactory(
        channel=channel, title="A <b>bold</b> title", description="<i>hi</i>\nsecond line"
    )

    page = page_of(client, video, viewer)

    assert "A &lt;b&gt;bold&lt;/b&gt; title" in page
    assert "&lt;i&gt;hi&lt;/i&gt;<br>second line" in page
    assert f'href="/channels/{channel.pk}"' in page
    assert "subscriber" in page
    assert f'id="watch-together" data-video-id="{video.pk}"' in page


def test_subscribe_buttons_follow_the_viewers_subscription(
    client, public_video, subscriber, sponsor, viewer
):
    assert 'data-subscribe-action="subscribe"' in page_of(client, public_video, viewer)

    page = page_of(client, public_video, subscriber)
    assert 'data-subscribe-action="unsubscribe"' in page
    assert 'data-subscribe-action="subscribe"' not in page

    page = page_of(client, public_video, sponsor)
    assert 'data-subscribe-action="unsponsor"' in page


def test_owner_sees_edit_instead_of_subscribe(client, public_video, author):
    page = page_of(client, public_video, author)

    assert f'href="/studio/videos/{public_video.pk}/edit"' in page
    assert "data-subscribe-action" not in page


def test_each_page_view_by_someone_who_can_watch_is_counted(client, public_video, viewer):
    page_of(client, public_video)
    page = page_of(client, public_video, viewer)

    public_video.refresh_from_db()
    assert public_video.view_count == 2
    assert "2 views" in page


def test_a_refused_viewer_does_not_add_a_view(client, sponsor_video, viewer):
    page_of(client, sponsor_video, viewer)

    sponsor_video.refresh_from_db()
    assert sponsor_video.view_count == 0


@pytest.mark.parametrize(
    "fields",
    [{"status": VideoStatus.PROCESSING}, {"status": VideoStatus.FAILED}, {"is_hidden": True}],
    ids=["processing", "failed", "hidden"],
)
def test_unlisted_video_page_is_404_to_everyone_but_its_owner(
    client, channel, viewer, sponsor, author, fields
):
    video = VideoFactory(channel=channel, **fields)
    url = reverse("video_detail", args=[video.pk])

    assert client.get(url).status_code == 404
    for someone in (viewer, sponsor):
        client.force_login(someone)
        assert client.get(url).status_code == 404
    client.force_login(author)
    assert client.get(url).status_code == 200


def test_owner_sees_a_processing_video_without_an_original_as_still_processing(
    client, channel, author
):
    # With its original stored, the owner previews it instead (test_hls_player_page.py).
    video = VideoFactory(channel=channel, status=VideoStatus.PROCESSING, with_file=False)

    page = page_of(client, video, author)

    assert "Still processing" in page
    assert "/stream" not in page


def test_owner_sees_that_a_moderator_hid_the_video(client, channel, author):
    video = VideoFactory(channel=channel, is_hidden=True)

    assert "Hidden by a moderator" in page_of(client, video, author)


def test_unknown_video_is_a_404_page(client, db):
    response = client.get("/videos/999999")

    assert response.status_code == 404
    assert "Not found" in response.content.decode()


def test_preroll_is_shown_to_an_ordinary_viewer_of_a_public_video_with_ads(
    client, channel, viewer, active_ad
):
    video = VideoFactory(channel=channel, has_ads=True)

    page = page_of(client, video, viewer)

    assert 'id="preroll"' in page
    assert f'src="{active_ad.image.url}"' in page
    assert 'href="https://ads.example.com/saw" target="_blank" rel="noopener sponsored"' in page
    assert "Skip in 5…" in page
    assert "Sawdust &amp; Co" in page


def test_preroll_is_absent_for_sponsors_and_the_owner(client, channel, sponsor, author, active_ad):
    video = VideoFactory(channel=channel, has_ads=True)

    assert 'id="preroll"' not in page_of(client, video, sponsor)
    assert 'id="preroll"' not in page_of(client, video, author)


def test_preroll_is_absent_without_an_active_ad_or_when_the_video_has_no_ads(
    client, channel, viewer, active_ad
):
    without_ads = VideoFactory(channel=channel, has_ads=False)
    with_ads = VideoFactory(channel=channel, has_ads=True)

    assert 'id="preroll"' not in page_of(client, without_ads, viewer)
    active_ad.is_active = False
    active_ad.save()
    assert 'id="preroll"' not in page_of(client, with_ads, viewer)


def test_preroll_plays_a_video_creative_muted(client, channel, viewer):
    ad = Ad(title="Clip ad", target_url="https://ads.example.com/clip")
    ad.video.save("creative.mp4", ContentFile(b"not really a video"), save=False)
    ad.save()
    video = VideoFactory(channel=channel, has_ads=True)

    page = page_of(client, video, viewer)

    assert f'<video class="preroll-media" id="preroll-media" src="{ad.video.url}" muted' in page
