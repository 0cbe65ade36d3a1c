"""Moderation of watch rooms: look inside, close a room, delete chat messages.

Rooms are made and run by their hosts through the services; the admin neither adds nor edits
them. Closing goes through `room_close(reason="moderator")`, so connected sockets hear
`room_closed` exactly as when the host leaves; chat deletes go through the service too.
"""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet

from rooms import services
from rooms.models import ChatMessage, CloseReason, Room, RoomParticipant
from rooms.selectors import rooms_with_counts
from videohost.errors import DomainError
from videohost.moderation import StaffModeratesMixin, is_moderator

CHAT_INLINE_LIMIT = 50


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_view_permission(self, request, obj=None) -> bool:
        return is_moderator(request)


class RoomParticipantInline(ReadOnlyInline):
    model = RoomParticipant
    fields = ["user", "joined_at", "left_at", "connections", "last_message_at"]
    readonly_fields = fields
    verbose_name_plural = "participants (those with “left at” set are no longer in)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class NewestChatFormSet(BaseInlineFormSet):
    """Only the newest messages: a busy room's whole chat would make the page unusable."""

    def get_queryset(self):
        if not hasattr(self, "_newest"):
            self._newest = list(super().get_queryset().order_by("-id")[:CHAT_INLINE_LIMIT])
        return self._newest


class ChatMessageInline(ReadOnlyInline):
    model = ChatMessage
    formset = NewestChatFormSet
    fields = ["created_at", "user", "message"]
    readonly_fields = fields
    ordering = ["-id"]
    verbose_name_plural = f"chat (newest {CHAT_INLINE_LIMIT}; delete messages under Chat messages)"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


@admin.register(Room)
class RoomAdmin(StaffModeratesMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "video",
        "owner",
        "is_active",
        "is_private",
        "participants",
        "created_at",
        "closed_at",
        "close_reason",
    ]
    list_display_links = ["id", "video"]
    list_filter = ["is_active", "is_private"]
    search_fields = ["video__title", "owner__username"]
    date_hierarchy = "created_at"
    actions = ["close_rooms"]
    inlines = [RoomParticipantInline, ChatMessageInline]
    fields = [
        "video",
        "owner",
        "is_active",
        "is_private",
        "max_participants",
        "message_delay",
        "guests_can_control",
        "created_at",
        "closed_at",
        "close_reason",
        "host_disconnected_at",
        "current_position",
        "is_playing",
        "rate",
        "state_updated_at",
        "seq",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return rooms_with_counts()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # Closing (below) is the moderation: a deleted row would leave its sockets open.
        return False

    @admin.display(description="participants", ordering="participants_count")
    def participants(self, room: Room) -> int:
        return room.participants_count

    @admin.action(description="Close the selected rooms (participants are disconnected)")
    def close_rooms(self, request, queryset: QuerySet[Room]) -> None:
        closed = 0
        for room_id in queryset.filter(is_active=True).values_list("pk", flat=True):
            try:
                services.room_close(room_id=room_id, reason=CloseReason.MODERATOR, by=request.user)
            except DomainError as exc:
                self.message_user(request, f"Room #{room_id}: {exc.message}", messages.ERROR)
                continue
            closed += 1
        self.message_user(request, f"{closed} room(s) closed.", messages.SUCCESS)


@admin.register(ChatMessage)
class ChatMessageAdmin(StaffModeratesMixin, admin.ModelAdmin):
    list_display = ["id", "room", "user", "excerpt", "created_at"]
    list_filter = ["room"]
    list_select_related = ["room", "user"]
    search_fields = ["message", "user__username"]
    raw_id_fields = ["room", "user"]
    fields = ["room", "user", "message", "client_id", "created_at"]
    readonly_fields = fields
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return is_moderator(request)  # the service checks staff again

    @admin.display(description="message")
    def excerpt(self, message: ChatMessage) -> str:
        return message.message if len(message.message) <= 80 else f"{message.message[:79]}…"

    def delete_model(self, request, obj: ChatMessage) -> None:
        services.chat_messages_delete(message_ids=[obj.pk], moderator=request.user)

    def delete_queryset(self, request, queryset: QuerySet[ChatMessage]) -> None:
        services.chat_messages_delete(
            message_ids=list(queryset.values_list("pk", flat=True)), moderator=request.user
        )
