"""Reads of videos that need care: visibility, the caller's relation, no N+1."""

from django.db.models import QuerySet
from django.http import Http404

from channels_app.models import Channel, Subscription
from videohost.errors import NotAllowed, NotAuthenticated
from videos.models import AccessLevel, Video, VideoStatus
from videos.policies import (
    ANONYMOUS,
    Viewer,
    can_requeue,
    can_see_unlisted,
    can_watch,
    processing_is_stalled,
)


def subscription_map(user) -> dict[int, bool]:
    """channel id → is_sponsor for every channel the user follows (one query, or none)."""
    if not getattr(user, "is_authenticated", False):
        return {}
    return dict(Subscription.objects.filter(user=user).values_list("channel_id", "is_sponsor"))


def viewer_for(user, channel: Channel, *, subscriptions: dict[int, bool] | None = None) -> Viewer:
    """The caller's relation to `channel`. Pass `subscriptions` when resolving many videos."""
    if not getattr(user, "is_authenticated", False):
        return ANONYMOUS
    if subscriptions is None:
        sub = Subscription.objects.filter(user=user, channel=channel).only("is_sponsor").first()
        is_subscribed, is_sponsor = sub is not None, bool(sub and sub.is_sponsor)
    else:
        is_subscribed = channel.pk in subscriptions
        is_sponsor = subscriptions.get(channel.pk, False)
    return Viewer(
        is_authenticated=True,
        is_staff=user.is_staff,
        is_owner=channel.owner_id == user.pk,
        is_subscribed=is_subscribed,
        is_sponsor=is_sponsor,
    )


def videos_with_channel() -> QuerySet[Video]:
    return Video.objects.select_related("channel", "channel__owner")


def listed_videos() -> QuerySet[Video]:
    """What listings show: ready and not hidden by a moderator, every access level."""
    return videos_with_channel().filter(status=VideoStatus.READY, is_hidden=False)


def video_for_viewer(*, user, video_id: int) -> tuple[Video, Viewer]:
    """The video and the caller's relation to it, or 404.

    A video that is not ready, or hidden by a moderator, does not exist for anyone but its
    owner and staff. Whether the caller may watch it is a separate question (`can_watch`).
    """
    try:
        video = videos_with_channel().get(pk=video_id)
    except (Video.DoesNotExist, ValueError, TypeError):
        raise Http404("Video not found") from None
    viewer = viewer_for(user, video.channel)
    if not video.is_listed and not can_see_unlisted(viewer=viewer):
        raise Http404("Video not found")
    return video, viewer


def video_for_playback(*, user, video_id: int) -> tuple[Video, Viewer]:
    """The video whose bytes the caller may receive, or the error to answer with.

    404 as in `video_for_viewer` (so a hidden video's existence is not revealed), then
    401 for an anonymous caller and 403 for anyone else `can_watch` refuses. Every path to a
    video's bytes (the stream, and later HLS playlists and segments) goes through here.
    """
    video, viewer = video_for_viewer(user=user, video_id=video_id)
    if not can_watch(access_level=video.access_level, viewer=viewer):
        if not viewer.is_authenticated:
            raise NotAuthenticated("Log in to watch this video.")
        raise NotAllowed(
            "Only sponsors of this channel can watch this video."
            if video.access_level == AccessLevel.SPONSOR
            else "Only subscribers of this channel can watch this video."
        )
    return video, viewer


def processing_state(*, video: Video, user) -> dict:
    """The processing job's state for the studio and the API; owner and staff only."""
    from django.conf import settings
    from django.utils import timezone

    viewer = viewer_for(user, video.channel)
    if not (viewer.is_owner or viewer.is_staff):
        raise NotAllowed("Only the channel's owner can see how processing goes.")
    rules = {
        "status": video.status,
        "last_sign_of_life": video.processing_heartbeat_at or video.processing_requested_at,
        "now": timezone.now(),
        "stall_seconds": settings.VIDEO_PROCESSING_STALL_SECONDS,
    }
    return {
        "status": video.status,
        "progress": video.processing_progress,
        "failure_reason": video.failure_reason,
        "stalled": processing_is_stalled(**rules),
        "can_requeue": can_requeue(viewer=viewer, **rules),
        "renditions": [rendition["name"] for rendition in video.renditions],
    }


def channel_for_upload(*, user) -> Channel:
    """The caller's channel, which new videos go to; 403 when they have none yet."""
    channel = (
        Channel.objects.filter(owner=user).first()
        if getattr(user, "is_authenticated", False)
        else None
    )
    if channel is None:
        raise NotAllowed("Create a channel before uploading")
    return channel


def preroll_ad():
    """A random active ad for the pre-roll, or None when there is none."""
    from videos.models import Ad

    return Ad.objects.filter(is_active=True).order_by("?").first()
