"""A room whose host vanished with every server process is still closed after the grace."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from rooms.models import Room
from rooms.services import room_create, room_join
from videohost.errors import NotFound
from videohost.testing import VideoFactory


@pytest.fixture
def abandoned_room(author, settings):
    settings.ROOM_HOST_GRACE_SECONDS = 60
    video = VideoFactory(channel=author.channel)
    room = room_create(user=author, video_id=video.pk)
    # What participant_disconnected leaves behind when the process dies before its timer.
    Room.objects.filter(pk=room.pk).update(
        host_disconnected_at=timezone.now() - timedelta(seconds=120)
    )
    return room


def test_joining_a_room_whose_host_grace_ran_out_finds_it_closed(abandoned_room, viewer):
    with pytest.raises(NotFound):
        room_join(room_id=abandoned_room.pk, user=viewer)
    abandoned_room.refresh_from_db()
    assert not abandoned_room.is_active
    assert abandoned_room.close_reason == "host_timeout"


def test_the_sweep_command_closes_abandoned_rooms_only(abandoned_room, author):
    fresh = room_create(user=author, video_id=VideoFactory(channel=author.channel).pk)
    out = StringIO()
    call_command("expire_abandoned_rooms", stdout=out)
    assert "Closed 1 abandoned room(s)." in out.getvalue()
    abandoned_room.refresh_from_db()
    fresh.refresh_from_db()
    assert not abandoned_room.is_active and fresh.is_active
