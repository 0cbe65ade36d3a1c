"""Moderation of videos and management of pre-roll ads in the Django admin."""

from django import forms
from django.contrib import admin, messages
from django.core.files.uploadedfile import UploadedFile
from django.utils.html import format_html

from videohost.errors import DomainError
from videohost.moderation import StaffModeratesMixin, is_moderator
from videos.models import Ad, Video, VideoStatus
from videos.services import (
    ad_image_check,
    ad_video_check,
    video_requeue,
    video_set_hidden,
)


@admin.register(Video)
class VideoAdmin(StaffModeratesMixin, admin.ModelAdmin):
    list_display = [
        "preview",
        "title",
        "channel",
        "access_level",
        "processing",
        "is_hidden",
        "has_ads",
        "view_count",
        "duration",
        "created_at",
    ]
    list_display_links = ["preview", "title"]
    list_filter = ["status", "access_level", "is_hidden", "has_ads"]
    search_fields = ["title", "channel__title"]
    list_select_related = ["channel", "channel__owner"]
    date_hierarchy = "created_at"
    actions = ["hide_videos", "unhide_videos", "requeue_processing"]
    # Authors own their titles and media; moderators only hide and unhide (through the
    # service, like every other write), so the rest is shown read-only.
    fields = [
        "preview",
        "title",
        "description",
        "channel",
        "access_level",
        "has_ads",
        "status",
        "failure_reason",
        "processing_progress",
        "processing_requested_at",
        "processing_heartbeat_at",
        "processed_at",
        "rendition_names",
        "is_hidden",
        "view_count",
        "created_at",
        "updated_at",
        "file",
        "media_key",
        "mime_type",
        "file_size",
        "width",
        "height",
        "duration",
    ]
    readonly_fields = [field for field in fields if field != "is_hidden"]

    def has_add_permission(self, request) -> bool:
        return False  # uploads go through the site or the API, where content is probed

    def has_change_permission(self, request, obj=None) -> bool:
        return is_moderator(request)  # only is_hidden is editable: the moderation switch

    @admin.display(description="Thumbnail")
    def preview(self, video: Video) -> str:
        if not video.thumbnail_url:
            return "—"
        return format_html(
            '<img src="{}" alt="" width="96" height="54" style="object-fit: cover">',
            video.thumbnail_url,
        )

    @admin.display(description="Status", ordering="status")
    def processing(self, video: Video) -> str:
        if video.status == VideoStatus.PROCESSING:
            return f"processing {video.processing_progress}%"
        if video.status == VideoStatus.FAILED:
            return format_html('failed <span title="{}">ⓘ</span>', video.failure_reason)
        return video.status

    @admin.display(description="Renditions")
    def rendition_names(self, video: Video) -> str:
        return ", ".join(rendition["name"] for rendition in video.renditions) or "—"

    def save_model(self, request, obj: Video, form, change: bool) -> None:
        if "is_hidden" in form.changed_data:
            # The form already set the new value on `obj`; the service compares with the row.
            stored = Video.objects.select_related("channel").get(pk=obj.pk)
            video_set_hidden(video=stored, hidden=obj.is_hidden, by=request.user)

    def _set_hidden(self, request, queryset, *, hidden: bool) -> None:
        done = 0
        for video in queryset.select_related("channel"):
            try:
                video_set_hidden(video=video, hidden=hidden, by=request.user)
            except DomainError as exc:
                self.message_user(request, f"{video}: {exc.message}", messages.ERROR)
                continue
            done += 1
        verb = "hidden" if hidden else "unhidden"
        self.message_user(request, f"{done} video(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Hide from listings and playback")
    def hide_videos(self, request, queryset) -> None:
        self._set_hidden(request, queryset, hidden=True)

    @admin.action(description="Unhide")
    def unhide_videos(self, request, queryset) -> None:
        self._set_hidden(request, queryset, hidden=False)

    @admin.action(description="Re-queue processing (failed or stuck)")
    def requeue_processing(self, request, queryset) -> None:
        done = 0
        for video in queryset:
            try:
                video_requeue(video=video, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"{video}: {exc.message}", messages.WARNING)
                continue
            done += 1
        self.message_user(request, f"{done} video(s) re-queued.", messages.SUCCESS)


class AdAdminForm(forms.ModelForm):
    """Creatives are checked by content (videos.services), and stored under a name whose
    extension comes from that content; Ad.clean() requires exactly one of them."""

    target_url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Ad
        fields = ["title", "image", "video", "target_url", "is_active"]

    def _checked(self, field: str, check) -> UploadedFile | None:
        upload = self.cleaned_data.get(field)
        if not isinstance(upload, UploadedFile):
            return upload  # unchanged or cleared
        try:
            upload.name = f"ad{check(upload=upload)}"
        except DomainError as exc:
            raise forms.ValidationError(exc.message) from None
        return upload

    def clean_image(self):
        return self._checked("image", ad_image_check)

    def clean_video(self):
        return self._checked("video", ad_video_check)


@admin.register(Ad)
class AdAdmin(StaffModeratesMixin, admin.ModelAdmin):
    form = AdAdminForm
    list_display = ["title", "preview", "target_url", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["title", "target_url"]
    readonly_fields = ["preview", "created_at"]

    @admin.display(description="Preview")
    def preview(self, ad: Ad) -> str:
        if ad.image:
            return format_html(
                '<img src="{}" alt="" height="40" style="max-width: 120px">', ad.image.url
            )
        if ad.video:
            return format_html('<a href="{}">video</a>', ad.video.url)
        return "—"

    # Moderators run the house ads: creatives are checked by content in the form above.
    def has_add_permission(self, request) -> bool:
        return is_moderator(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return is_moderator(request)

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_moderator(request)
