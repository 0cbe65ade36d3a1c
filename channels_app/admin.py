"""Moderation of channels and subscriptions: look, search, delete.

Channels and subscriptions are made and edited by their users through the services, so the
admin neither adds nor edits them; its deletes go through the services' takedowns, so the
owner stops being an author and the videos' files go the same way as from the API."""

from django.contrib import admin
from django.db.models import QuerySet

from channels_app import services
from channels_app.models import Channel, Subscription
from channels_app.selectors import channels_with_counts
from videohost.moderation import StaffModeratesMixin, is_moderator


class TakedownOnlyMixin(StaffModeratesMixin):
    """Moderators look and delete (through the takedown services); users make and edit."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_moderator(request)  # the takedown service checks staff again


@admin.register(Channel)
class ChannelAdmin(TakedownOnlyMixin, admin.ModelAdmin):
    list_display = [
        "title",
        "owner",
        "subscribers",
        "sponsors",
        "videos",
        "is_live",
        "created_at",
    ]
    list_filter = ["is_live"]
    list_select_related = ["owner"]
    search_fields = ["title", "owner__username"]
    raw_id_fields = ["owner"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return channels_with_counts()

    @admin.display(description="subscribers", ordering="subscribers_count")
    def subscribers(self, channel: Channel) -> int:
        return channel.subscribers_count

    @admin.display(description="sponsors", ordering="sponsors_count")
    def sponsors(self, channel: Channel) -> int:
        return channel.sponsors_count

    @admin.display(description="listed videos", ordering="videos_count")
    def videos(self, channel: Channel) -> int:
        return channel.videos_count

    def delete_model(self, request, obj: Channel) -> None:
        services.channel_takedown(channel=obj, moderator=request.user)

    def delete_queryset(self, request, queryset: QuerySet[Channel]) -> None:
        for channel in queryset.select_related("owner"):
            services.channel_takedown(channel=channel, moderator=request.user)


@admin.register(Subscription)
class SubscriptionAdmin(TakedownOnlyMixin, admin.ModelAdmin):
    list_display = ["user", "channel", "is_sponsor", "created_at"]
    list_filter = ["is_sponsor"]
    list_select_related = ["user", "channel"]
    search_fields = ["user__username", "channel__title"]
    raw_id_fields = ["user", "channel"]
    readonly_fields = ["created_at"]

    def delete_model(self, request, obj: Subscription) -> None:
        services.subscription_takedown(subscription=obj, moderator=request.user)

    def delete_queryset(self, request, queryset: QuerySet[Subscription]) -> None:
        for subscription in queryset:
            services.subscription_takedown(subscription=subscription, moderator=request.user)
