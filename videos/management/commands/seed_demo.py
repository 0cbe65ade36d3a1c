"""Demo data for `make run`: people, a channel, one video per access level, an ad.

Idempotent: running it again finds what exists and creates only what is missing, so
`make run` can call it every time. Everything goes through the services, like real use.
"""

import tempfile
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import User
from accounts.services import user_register, user_update_profile
from channels_app.models import Subscription
from channels_app.services import channel_create, subscription_create
from videos.media_tools import generate_clip
from videos.models import AccessLevel, Ad, Video
from videos.services import ad_create, video_process, video_upload

PASSWORD = "videohost-demo-2026"  # noqa: S105 - printed for the demo on purpose

PEOPLE = [
    # username, display name, role shown in the printed table
    ("alice", "Alice Author", "author, owns the demo channel"),
    ("victor", "Victor Viewer", "viewer, follows nothing"),
    ("sam", "Sam Subscriber", "subscriber of Alice's channel"),
    ("sophie", "Sophie Sponsor", "sponsor of Alice's channel"),
    ("mona", "Mona Moderator", "staff moderator (/admin/)"),
]

VIDEOS = [
    # title, access level, has ads, ffmpeg test pattern, size, seconds
    ("Welcome to the Workshop", AccessLevel.PUBLIC, True, "testsrc2", "640x360", 12),
    ("Colour bars, explained", AccessLevel.PUBLIC, False, "smptehdbars", "640x360", 8),
    ("Subscribers' corner", AccessLevel.SUBSCRIBER, False, "rgbtestsrc", "640x360", 8),
    ("Sponsors-only deep dive", AccessLevel.SPONSOR, False, "mandelbrot", "640x360", 8),
]


class Command(BaseCommand):
    help = "Create demo users, a channel, videos of every access level and an ad (idempotent)."

    def handle(self, *args, **options) -> None:
        users = {username: self._user(username, name) for username, name, _ in PEOPLE}
        mona = users["mona"]
        if not mona.is_staff:
            # Staff status is granted by an operator, not by a user-facing service.
            User.objects.filter(pk=mona.pk).update(is_staff=True)

        alice = users["alice"]
        channel = getattr(alice, "channel", None) or channel_create(
            owner=alice,
            title="Alice's Workshop",
            description=(
                "Short demo clips of every access level.\nSubscribe, or sponsor to see all."
            ),
        )
        for username, sponsor in (("sam", False), ("sophie", True)):
            if not Subscription.objects.filter(user=users[username], channel=channel).exists():
                subscription_create(user=users[username], channel_id=channel.pk, is_sponsor=sponsor)

        with tempfile.TemporaryDirectory() as folder:
            for title, level, ads, pattern, size, seconds in VIDEOS:
                if Video.objects.filter(channel=channel, title=title).exists():
                    continue
                path = generate_clip(
                    Path(folder) / f"{pattern}.mp4", seconds=seconds, size=size, pattern=pattern
                )
                upload = SimpleUploadedFile("demo.mp4", path.read_bytes(), "video/mp4")
                video = video_upload(
                    user=alice,
                    uploaded_file=upload,
                    title=title,
                    description=f"A {seconds}-second {pattern} test pattern.",
                    access_level=level,
                    has_ads=ads,
                )
                # Processed here, not by the worker: the demo is watchable the moment it prints.
                video_process(video_id=video.pk, token=video.processing_token)
                self.stdout.write(f"  made video: {title} ({level})")
            if not Ad.objects.exists():
                path = generate_clip(
                    Path(folder) / "ad.mp4", seconds=8, size="640x360", pattern="smptebars"
                )
                ad_create(
                    title="VideoHost Pro — sponsor your favourite channel",
                    target_url="https://example.com/videohost-pro",
                    video=SimpleUploadedFile("ad.mp4", path.read_bytes(), "video/mp4"),
                )
                self.stdout.write("  made ad: VideoHost Pro")

        self._print_logins()

    @transaction.atomic
    def _user(self, username: str, display_name: str) -> User:
        existing = User.objects.filter(username__iexact=username).first()
        if existing:
            return existing
        user = user_register(
            username=username, email=f"{username}@videohost.example", password=PASSWORD
        )
        return user_update_profile(user=user, display_name=display_name)

    def _print_logins(self) -> None:
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Demo logins (password for all: {PASSWORD})"))
        for username, _, role in PEOPLE:
            self.stdout.write(f"  {username:<8} {role}")
        self.stdout.write("  Admin: http://127.0.0.1:8000/admin/ as mona")
