"""The room page's player gets the same sources as the watch page: HLS once the video has it,
else the original; static/js/room.js attaches them through static/js/player.js."""

import pytest
from django.urls import reverse

from rooms import services
from videohost.testing import VideoFactory

pytestmark = pytest.mark.django_db

PLAYER_TAG = '<video id="room-player"'


def player_tag(client, room, user) -> str:
    client.force_login(user)
    page = client.get(reverse("room_detail", args=[room.pk])).content.decode()
    return page.split(PLAYER_TAG, 1)[1].split(">", 1)[0]


def test_room_on_a_video_with_hls_gives_its_player_the_playlist(client, channel, viewer):
    video = VideoFactory(channel=channel)
    video.hls_playlist = f"videos/{video.media_key}/hls-abc/master.m3u8"
    video.renditions = [{"name": "360p", "width": 640, "height": 360, "bandwidth": 928_000}]
    video.save()
    room = services.room_create(user=viewer, video_id=video.pk)

    tag = player_tag(client, room, viewer)

    assert f'data-hls-url="/api/videos/{video.pk}/hls/master.m3u8"' in tag
    assert f'data-stream-url="/api/videos/{video.pk}/stream"' in tag
    # The original is not fetched before the script has chosen HLS.
    assert 'preload="none"' in tag


def test_room_on_a_video_without_hls_streams_the_original(client, channel, viewer):
    video = VideoFactory(channel=channel)
    room = services.room_create(user=viewer, video_id=video.pk)

    tag = player_tag(client, room, viewer)

    assert "data-hls-url" not in tag
    assert f'src="/api/videos/{video.pk}/stream"' in tag
    assert 'preload="auto"' in tag
