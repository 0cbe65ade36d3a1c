import secrets
from pathlib import PurePosixPath

from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse

from channels_app.models import Channel
from videohost.storage import public_storage
from videos.processing import PLAYLIST


class AccessLevel(models.TextChoices):
    PUBLIC = "public", "Public"
    SUBSCRIBER = "subscriber", "Subscribers"
    SPONSOR = "sponsor", "Sponsors"


class VideoStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


AD_EXTENSIONS = {".jpg", ".jpeg", ".png", ".webp", ".gif", ".mp4", ".webm"}


def ad_upload_to(instance: "Ad", filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    return f"ads/{secrets.token_hex(16)}{suffix if suffix in AD_EXTENSIONS else ''}"


def new_media_key() -> str:
    """A random folder name for one video's files; never derived from user input."""
    return secrets.token_hex(16)


class Video(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="videos")
    title = models.CharField(max_length=200)
    description = models.TextField(max_length=5000, blank=True)
    access_level = models.CharField(
        max_length=16, choices=AccessLevel.choices, default=AccessLevel.PUBLIC
    )
    has_ads = models.BooleanField(default=False)
    status = models.CharField(
        max_length=16, choices=VideoStatus.choices, default=VideoStatus.PROCESSING
    )
    failure_reason = models.TextField(blank=True)
    is_hidden = models.BooleanField(
        default=False, help_text="Hidden by a moderator: out of listings and playback."
    )
    view_count = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Media: the original lives in private storage (served only after can_watch), the
    # thumbnail in public storage. Names are generated under media_key.
    media_key = models.CharField(max_length=32, default=new_media_key, unique=True, editable=False)
    file = models.FileField(max_length=255, blank=True)
    thumbnail = models.ImageField(storage=public_storage, max_length=255, blank=True)
    duration = models.FloatField(default=0.0, help_text="Seconds, as probed.")
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    file_size = models.PositiveBigIntegerField(default=0)
    mime_type = models.CharField(max_length=64, blank=True)

    # Processing (videos.processing, run by the background worker). Each enqueue draws a new
    # token; a run whose token is no longer the video's was superseded (re-queued) and
    # discards its output, so two runs of one video never both publish.
    processing_token = models.CharField(max_length=32, blank=True, editable=False)
    processing_progress = models.PositiveSmallIntegerField(default=0, help_text="Percent.")
    processing_requested_at = models.DateTimeField(null=True, blank=True)
    processing_heartbeat_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker running the job."
    )
    # Runs started since the upload or the last re-queue by a person: the worker's sweep
    # re-queues a run whose worker died up to VIDEO_PROCESSING_MAX_ATTEMPTS, then fails it.
    processing_attempts = models.PositiveSmallIntegerField(default=0, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    # The HLS output: the master playlist's storage name (its folder holds one folder per
    # rendition), and the renditions as [{name, width, height, bandwidth}].
    hls_playlist = models.CharField(max_length=255, blank=True, editable=False)
    renditions = models.JSONField(default=list, blank=True, editable=False)
    # Scrub preview: a grid of small frames, and where each frame sits in time. Private like
    # the ladder: a hundred frames of a sponsor-only video are its content, not a poster.
    sprite = models.ImageField(max_length=255, blank=True)
    sprite_info = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "is_hidden", "-created_at"], name="video_listing_idx"),
            models.Index(fields=["channel", "-created_at"], name="video_channel_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_listed(self) -> bool:
        return self.status == VideoStatus.READY and not self.is_hidden

    @property
    def thumbnail_url(self) -> str | None:
        return self.thumbnail.url if self.thumbnail else None

    @property
    def has_hls(self) -> bool:
        return bool(self.hls_playlist)

    # The access-checked routes of the video's bytes (videos/media_views.py). Say nothing of
    # who may fetch them: callers hand them only to viewers for whom can_watch holds.
    @property
    def stream_url(self) -> str:
        return reverse("api-video-stream", kwargs={"pk": self.pk})

    @property
    def hls_url(self) -> str | None:
        if not self.hls_playlist:
            return None
        return reverse("api-video-hls", kwargs={"pk": self.pk, "path": PLAYLIST})

    @property
    def sprite_url(self) -> str | None:
        return reverse("api-video-sprite", kwargs={"pk": self.pk}) if self.sprite else None

    @property
    def storage_prefix(self) -> str:
        """The folder every private file of this video lives under."""
        return f"videos/{self.media_key}/"


class Ad(models.Model):
    """A pre-roll creative: an image shown for a few seconds or a short video."""

    title = models.CharField(max_length=120)
    image = models.ImageField(
        upload_to=ad_upload_to, storage=public_storage, blank=True, max_length=255
    )
    video = models.FileField(
        upload_to=ad_upload_to, storage=public_storage, blank=True, max_length=255
    )
    target_url = models.URLField(max_length=500)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if bool(self.image) == bool(self.video):
            raise ValidationError("Give either an image or a short video, not both or neither.")
