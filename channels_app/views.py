"""The channel page and the studio ("My channel"): create, edit and delete one's channel,
and follow one's videos through processing."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from channels_app.forms import ChannelForm, apply_domain_error
from channels_app.models import Channel
from channels_app.selectors import channel_with_counts, viewer_subscription
from channels_app.services import channel_create, channel_delete, channel_update
from videohost.errors import DomainError, NotFound
from videos.models import Video
from videos.policies import Viewer, can_requeue, processing_is_stalled
from videos.selectors import listed_videos, viewer_for
from videos.views import format_duration, paginate, video_cards


@dataclass(frozen=True, slots=True)
class StudioRow:
    """One own video as "My channel" lists it, with its processing job's state decided the way
    GET /api/videos/<id>/processing decides it, so static/js/studio.js takes over seamlessly."""

    video: Video
    stalled: bool
    can_requeue: bool

    @property
    def duration_text(self) -> str:
        return format_duration(self.video.duration)

    @property
    def download_url(self) -> str:
        return f"{reverse('api-video-stream', kwargs={'pk': self.video.pk})}?download=1"


def studio_rows(videos, viewer: Viewer) -> list[StudioRow]:
    now = timezone.now()
    rows = []
    for video in videos:
        rules = {
            "status": video.status,
            "last_sign_of_life": video.processing_heartbeat_at or video.processing_requested_at,
            "now": now,
            "stall_seconds": settings.VIDEO_PROCESSING_STALL_SECONDS,
        }
        rows.append(
            StudioRow(
                video=video,
                stalled=processing_is_stalled(**rules),
                can_requeue=can_requeue(viewer=viewer, **rules),
            )
        )
    return rows


def channel_detail(request: HttpRequest, channel_id: int) -> HttpResponse:
    try:
        channel = channel_with_counts(channel_id=channel_id, user=request.user)
    except NotFound:
        raise Http404("Channel not found") from None
    page = paginate(request, listed_videos().filter(channel=channel))
    context = {
        "channel": channel,
        "subscription": viewer_subscription(channel),
        "is_owner": request.user.is_authenticated and channel.owner_id == request.user.pk,
        "page": page,
        "cards": video_cards(page.object_list, request.user),
    }
    return render(request, "channels_app/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def studio(request: HttpRequest) -> HttpResponse:
    channel = Channel.objects.filter(owner=request.user).first()
    if channel is None:
        return _studio_create(request)

    initial = {"title": channel.title, "description": channel.description}
    form = ChannelForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            channel_update(channel=channel, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Channel saved.")
            return redirect("studio")
    # Everything the owner has, including what listings leave out (processing, failed, hidden).
    videos = Video.objects.filter(channel=channel).order_by("-created_at", "-id")
    rows = studio_rows(videos, viewer_for(request.user, channel, subscriptions={}))
    context = {
        "channel": channel,
        "form": form,
        "rows": rows,
        "total_views": sum(row.video.view_count for row in rows),
    }
    return render(request, "studio/index.html", context)


def _studio_create(request: HttpRequest) -> HttpResponse:
    form = ChannelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            channel_create(owner=request.user, **form.cleaned_data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            messages.success(request, "Your channel is ready. Upload your first video!")
            return redirect("studio")
    return render(request, "studio/create_channel.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def studio_channel_delete(request: HttpRequest) -> HttpResponse:
    channel = Channel.objects.filter(owner=request.user).first()
    if channel is None:
        return redirect("studio")
    if request.method == "POST":
        try:
            channel_delete(channel=channel, actor=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("studio")
        messages.success(request, "Your channel and its videos were deleted.")
        return redirect("home")
    videos_count = Video.objects.filter(channel=channel).count()
    context = {"channel": channel, "videos_count": videos_count}
    return render(request, "studio/channel_delete.html", context)
