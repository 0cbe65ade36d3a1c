"""The site's video pages: home, watch page, upload, and the studio's per-video edit/delete.

Reads go through the selectors and the access policy; writes through videos/services.py.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from channels_app.forms import apply_domain_error
from channels_app.models import Channel, Subscription
from channels_app.selectors import channel_with_counts, viewer_subscription
from videohost.errors import DomainError
from videos.forms import ACCEPTED_EXTENSIONS, VideoEditForm, VideoUploadForm
from videos.models import AccessLevel, Video, VideoStatus
from videos.policies import can_watch, show_ads
from videos.selectors import (
    listed_videos,
    preroll_ad,
    subscription_map,
    video_for_viewer,
    videos_with_channel,
    viewer_for,
)
from videos.services import video_delete, video_record_view, video_update

PAGE_SIZE = 20
SEARCH_MAX_LENGTH = 100
# How long an image pre-roll stays up when nobody skips it.
IMAGE_AD_SECONDS = 8
SKIP_AD_AFTER_SECONDS = 5


def format_duration(seconds: float) -> str:
    total = max(0, round(seconds or 0))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


@dataclass(frozen=True, slots=True)
class VideoCard:
    """One video as a grid card shows it, with the viewer's access already decided."""

    video: Video
    can_watch: bool

    @property
    def duration_text(self) -> str:
        return format_duration(self.video.duration)


def video_cards(videos: Iterable[Video], user) -> list[VideoCard]:
    """Cards for a page of videos: one subscription query for the whole page, not one each.

    `videos` must come with their channel selected (listed_videos does).
    """
    subscriptions = subscription_map(user)
    return [
        VideoCard(
            video=video,
            can_watch=can_watch(
                access_level=video.access_level,
                viewer=viewer_for(user, video.channel, subscriptions=subscriptions),
            ),
        )
        for video in videos
    ]


def paginate(request: HttpRequest, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def home(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    videos = listed_videos()
    if query:
        videos = videos.filter(
            Q(title__icontains=query)
            | Q(description__icontains=query)
            | Q(channel__title__icontains=query)
        )
    page = paginate(request, videos)
    context = {"page": page, "cards": video_cards(page.object_list, request.user), "query": query}
    return render(request, "videos/home.html", context)


def _access_message(video: Video, viewer) -> tuple[str, str]:
    """(message, action) for a viewer who may not watch; action is login/subscribe/sponsor."""
    audience = "sponsors" if video.access_level == AccessLevel.SPONSOR else "subscribers"
    base = f"This video is for {audience} of {video.channel.title}."
    if not viewer.is_authenticated:
        return f"{base} Sign in to watch.", "login"
    if video.access_level == AccessLevel.SPONSOR:
        return f"{base} Sponsor the channel to watch.", "sponsor"
    return f"{base} Subscribe to watch.", "subscribe"


SPRITE_INFO_KEYS = ("interval", "count", "columns", "rows", "tile_width", "tile_height")


def playback_sources(video: Video) -> dict:
    """What static/js/player.js needs to play `video`: the original, the HLS master playlist
    once processing made one, the renditions for the quality menu (highest first) and the
    scrub sprite. Only ever put on a page for a viewer who may watch the video."""
    sprite_info = video.sprite_info or {}
    has_sprite = bool(video.sprite) and all(key in sprite_info for key in SPRITE_INFO_KEYS)
    renditions = sorted(video.renditions, key=lambda r: r.get("height", 0), reverse=True)
    return {
        "stream_url": video.stream_url,
        "hls_url": video.hls_url or "",
        "renditions": [rendition["name"] for rendition in renditions],
        "sprite_url": video.sprite_url if has_sprite else "",
        "sprite_info": {key: sprite_info[key] for key in SPRITE_INFO_KEYS} if has_sprite else None,
    }


def video_detail(request: HttpRequest, video_id: int) -> HttpResponse:
    video, viewer = video_for_viewer(user=request.user, video_id=video_id)
    watchable = can_watch(access_level=video.access_level, viewer=viewer)
    playable = watchable and video.status == VideoStatus.READY
    # Only the owner and staff reach a video that is still processing (video_for_viewer):
    # they may check the original while the other qualities are made.
    previewing = watchable and video.status == VideoStatus.PROCESSING and bool(video.file)
    ad = None
    if playable:
        video_record_view(video=video)
        if show_ads(has_ads=video.has_ads, access_level=video.access_level, viewer=viewer):
            ad = preroll_ad()
    channel = channel_with_counts(channel_id=video.channel_id, user=request.user)
    subscription = _subscription_of(request.user, channel)
    access_message, access_action = ("", "") if watchable else _access_message(video, viewer)
    more = video_cards(
        listed_videos().filter(channel_id=video.channel_id).exclude(pk=video.pk)[:8], request.user
    )
    context = {
        "video": video,
        "channel": channel,
        "viewer": viewer,
        "can_watch": watchable,
        "playable": playable,
        "previewing": previewing,
        "sources": playback_sources(video) if playable or previewing else None,
        "ad": ad,
        "skip_after": SKIP_AD_AFTER_SECONDS,
        "image_ad_seconds": IMAGE_AD_SECONDS,
        "subscription": subscription,
        "access_message": access_message,
        "access_action": access_action,
        "more": more,
        "duration_text": format_duration(video.duration),
    }
    return render(request, "videos/detail.html", context)


def _subscription_of(user, channel: Channel) -> Subscription | None:
    return viewer_subscription(channel) if getattr(user, "is_authenticated", False) else None


@login_required
def upload(request: HttpRequest) -> HttpResponse:
    channel = Channel.objects.filter(owner=request.user).first()
    if channel is None:
        messages.info(request, "Create your channel first: uploads go to it.")
        return redirect("studio")
    context = {
        "channel": channel,
        "form": VideoUploadForm(),
        "accepted_extensions": " ".join(ACCEPTED_EXTENSIONS),
    }
    return render(request, "videos/upload.html", context)


def _own_video_or_404(request: HttpRequest, video_id: int) -> Video:
    """The studio only reaches the caller's own videos; anyone else's look absent."""
    try:
        return videos_with_channel().get(pk=video_id, channel__owner=request.user)
    except Video.DoesNotExist:
        raise Http404("Video not found") from None


@login_required
@require_http_methods(["GET", "POST"])
def studio_video_edit(request: HttpRequest, video_id: int) -> HttpResponse:
    video = _own_video_or_404(request, video_id)
    initial = {
        "title": video.title,
        "description": video.description,
        "access_level": video.access_level,
        "has_ads": video.has_ads,
    }
    form = VideoEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            video_update(video=video, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, f"Saved “{video.title}”.")
            return redirect("studio")
    return render(request, "studio/video_edit.html", {"video": video, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def studio_video_delete(request: HttpRequest, video_id: int) -> HttpResponse:
    video = _own_video_or_404(request, video_id)
    if request.method == "POST":
        title = video.title
        try:
            video_delete(video=video, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"Deleted “{title}”.")
        return redirect("studio")
    return render(request, "studio/video_delete.html", {"video": video})
