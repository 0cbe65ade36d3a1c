"""The watch page's player: what it is told to play (HLS, the original, the sprite) and to whom.

The page passes the player script (static/js/player.js) its sources in data- attributes and the
sprite's layout as JSON; someone who may not watch gets none of them. The owner of a video still
processing previews its original with a note. The browser side is
test_browser_hls_playback.py.
"""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from videohost.testing import VideoFactory
from videos.models import AccessLevel, VideoStatus
from videos.tests.helpers import png_bytes

pytestmark = pytest.mark.django_db

SPRITE_INFO = {
    "interval": 1.2,
    "count": 5,
    "columns": 5,
    "rows": 1,
    "tile_width": 160,
    "tile_height": 90,
}
RENDITIONS = [
    {"name": "360p", "width": 640, "height": 360, "bandwidth": 928_000},
    {"name": "720p", "width": 1280, "height": 720, "bandwidth": 2_928_000},
]


class Elements(HTMLParser):
    """Every start tag of a page as (tag, attributes)."""

    def __init__(self, page: str):
        super().__init__()
        self.found: list[tuple[str, dict]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))

    def by_id(self, element_id: str) -> dict | None:
        return next((attrs for _, attrs in self.found if attrs.get("id") == element_id), None)


def page_of(client, video, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(reverse("video_detail", args=[video.pk]))
    assert response.status_code == 200
    return response.content.decode()


def with_hls(video):
    """What a finished processing run leaves on a video (the files themselves don't matter to
    the page)."""
    video.hls_playlist = f"videos/{video.media_key}/hls-abc/master.m3u8"
    video.renditions = RENDITIONS
    video.sprite_info = SPRITE_INFO
    video.sprite.save(f"videos/{video.media_key}/sprite-abc.jpg", ContentFile(png_bytes()))
    video.save()
    return video


@pytest.fixture
def hls_video(channel):
    return with_hls(VideoFactory(channel=channel, title="Adaptive tour"))


@pytest.fixture
def sponsor_hls_video(channel):
    return with_hls(VideoFactory(channel=channel, access_level=AccessLevel.SPONSOR))


def test_ready_video_gives_the_player_its_playlist_original_and_sprite(client, hls_video):
    page = page_of(client, hls_video)
    elements = Elements(page)

    player = elements.by_id("player")
    assert player["data-hls-url"] == f"/api/videos/{hls_video.pk}/hls/master.m3u8"
    assert player["data-stream-url"] == f"/api/videos/{hls_video.pk}/stream"
    # The original stays in src for browsers without scripts, unfetched until played.
    assert player["src"] == player["data-stream-url"]
    assert player["preload"] == "none"
    scrub = elements.by_id("scrub")
    assert scrub["data-sprite-url"] == hls_video.sprite_url
    assert scrub["role"] == "slider"
    sprite = re.search(r'<script id="scrub-sprite" type="application/json">(.*?)</script>', page)
    assert json.loads(sprite.group(1)) == SPRITE_INFO


def test_quality_menu_offers_auto_then_each_rendition_highest_first(client, hls_video):
    page = page_of(client, hls_video)

    menu = page.split('<select id="player-quality">', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]+)"', menu) == ["auto", "720p", "360p"]
    # Hidden until the script knows hls.js plays (native HLS and the original pick for
    # themselves).
    assert "hidden" in Elements(page).by_id("quality")


def test_video_without_hls_yet_plays_its_original_without_a_quality_menu(client, channel):
    video = VideoFactory(channel=channel)

    elements = Elements(page_of(client, video))

    player = elements.by_id("player")
    assert "data-hls-url" not in player
    assert player["src"] == player["data-stream-url"] == f"/api/videos/{video.pk}/stream"
    assert player["preload"] == "metadata"
    assert elements.by_id("quality") is None
    assert "data-sprite-url" not in elements.by_id("scrub")
    assert elements.by_id("scrub-sprite") is None


def test_an_incomplete_sprite_layout_is_not_given_to_the_player(client, hls_video):
    hls_video.sprite_info = {"interval": 1.0, "count": 3}
    hls_video.save()

    elements = Elements(page_of(client, hls_video))

    assert "data-sprite-url" not in elements.by_id("scrub")
    assert elements.by_id("scrub-sprite") is None


@pytest.mark.parametrize("persona", ["sponsor", "author", "moderator"])
def test_sponsor_only_playlist_is_given_to_whoever_may_watch(
    client, sponsor_hls_video, persona, request
):
    player = Elements(page_of(client, sponsor_hls_video, request.getfixturevalue(persona)))

    assert player.by_id("player")["data-hls-url"].endswith("/hls/master.m3u8")


@pytest.mark.parametrize("persona", [None, "viewer", "subscriber", "stranger"])
def test_someone_who_cannot_watch_gets_no_playlist_original_or_sprite(
    client, sponsor_hls_video, persona, request
):
    user = request.getfixturevalue(persona) if persona else None

    page = page_of(client, sponsor_hls_video, user)

    assert "/hls/" not in page
    assert "/stream" not in page
    assert "data-stream-url" not in page
    assert sponsor_hls_video.sprite_url not in page
    assert 'id="scrub' not in page
    assert 'id="player-quality"' not in page


def test_owner_previews_a_processing_video_from_its_original_with_a_note(client, channel, author):
    video = VideoFactory(channel=channel, status=VideoStatus.PROCESSING, processing_progress=42)

    page = page_of(client, video, author)
    elements = Elements(page)

    player = elements.by_id("player")
    assert player["src"] == f"/api/videos/{video.pk}/stream"
    assert "data-hls-url" not in player
    note = elements.by_id("processing-note")
    assert note["data-video-id"] == str(video.pk)
    assert "Other qualities are being prepared" in page
    assert '<strong id="processing-note-percent">42%</strong>' in page
    # A preview: no views counted, no room to open on a video others cannot reach yet.
    assert 'id="watch-together"' not in page
    video.refresh_from_db()
    assert video.view_count == 0


def test_moderator_previews_a_processing_video_too(client, channel, moderator):
    video = VideoFactory(channel=channel, status=VideoStatus.PROCESSING)

    elements = Elements(page_of(client, video, moderator))

    assert elements.by_id("player")["src"] == f"/api/videos/{video.pk}/stream"


def test_nobody_else_reaches_a_processing_video_page(client, channel, viewer, sponsor):
    video = VideoFactory(channel=channel, status=VideoStatus.PROCESSING)
    url = reverse("video_detail", args=[video.pk])

    assert client.get(url).status_code == 404
    for someone in (viewer, sponsor):
        client.force_login(someone)
        assert client.get(url).status_code == 404


def test_ready_video_has_no_processing_note(client, hls_video, author):
    page = page_of(client, hls_video, author)

    assert 'id="processing-note"' not in page
    assert "Other qualities are being prepared" not in page


def test_owner_of_a_failed_video_sees_the_reason_and_where_to_requeue_without_a_player(
    client, channel, author
):
    video = VideoFactory(
        channel=channel, status=VideoStatus.FAILED, failure_reason="ffmpeg: invalid data found"
    )

    page = page_of(client, video, author)

    assert "This video could not be processed" in page
    assert "ffmpeg: invalid data found" in page
    assert 'href="/studio"' in page
    assert 'id="player"' not in page
    assert "/stream" not in page


def test_the_player_script_loads_the_vendored_hls_build_and_its_worker():
    script = (Path(settings.BASE_DIR) / "static" / "js" / "player.js").read_text()

    vendored = re.findall(r'"\.\./(vendor/hls\.js-[0-9.]+/[a-z.]+)"', script)

    assert sorted(Path(path).name for path in vendored) == ["hls.min.mjs", "hls.worker.js"]
    for path in vendored:
        assert (Path(settings.BASE_DIR) / "static" / path).stat().st_size > 10_000
