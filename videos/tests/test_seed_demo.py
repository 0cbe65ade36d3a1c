"""`manage.py seed_demo` gives `make run` a complete demo, and running it twice changes nothing."""

from io import StringIO

from django.core.management import call_command

from accounts.models import User
from channels_app.models import Subscription
from videos.models import AccessLevel, Ad, Video, VideoStatus


def test_seed_demo_creates_every_persona_and_access_level_once(db):
    out = StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=StringIO())

    assert set(User.objects.values_list("username", flat=True)) == {
        "alice",
        "victor",
        "sam",
        "sophie",
        "mona",
    }
    assert User.objects.get(username="mona").is_staff
    alice = User.objects.get(username="alice")
    assert alice.is_author and alice.channel.title == "Alice's Workshop"
    assert Subscription.objects.get(user__username="sophie").is_sponsor
    assert not Subscription.objects.get(user__username="sam").is_sponsor
    assert not Subscription.objects.filter(user__username="victor").exists()

    videos = Video.objects.filter(channel=alice.channel)
    assert videos.count() == 4
    assert set(videos.values_list("access_level", flat=True)) == set(AccessLevel.values)
    assert set(videos.values_list("status", flat=True)) == {VideoStatus.READY}
    assert videos.filter(has_ads=True).exists()
    assert all(video.duration > 5 and video.thumbnail for video in videos)
    assert Ad.objects.filter(is_active=True).count() == 1

    printed = out.getvalue()
    assert "videohost-demo-2026" in printed
    assert all(name in printed for name in ("alice", "victor", "sam", "sophie", "mona"))
