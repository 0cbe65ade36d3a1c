"""Watch rooms: a host and guests watching one video in sync, with a chat (ROOM_PROTOCOL.md).

The playback state lives on the Room row, not in a process, so it survives a restart and every
server process (and the channel layer's consumers in each) reads the same truth.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from videos.models import Video

MESSAGE_MAX_LENGTH = 500
MESSAGE_DELAY_MAX = 3600


class CloseReason(models.TextChoices):
    HOST_LEFT = "host_left", "The host left"
    MODERATOR = "moderator", "Closed by a moderator"
    HOST_TIMEOUT = "host_timeout", "The host did not come back"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"


class Room(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_rooms"
    )
    video = models.ForeignKey(Video, on_delete=models.CASCADE, related_name="rooms")
    max_participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Empty means unlimited."
    )
    message_delay = models.PositiveIntegerField(
        default=0, help_text="Slow mode: seconds between two messages of one guest (0–3600)."
    )
    is_private = models.BooleanField(default=False)
    guests_can_control = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    # Playback state as of `state_updated_at`; the position now is derived (rooms.sync).
    current_position = models.FloatField(default=0.0)
    is_playing = models.BooleanField(default=False)
    rate = models.FloatField(default=1.0)
    state_updated_at = models.DateTimeField(default=timezone.now)
    seq = models.PositiveBigIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=16, choices=CloseReason.choices, blank=True)
    host_disconnected_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while the host has no open socket (grace period)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["is_active", "-created_at"], name="room_active_idx"),
            models.Index(
                fields=["host_disconnected_at"],
                name="room_host_away_idx",
                condition=models.Q(is_active=True, host_disconnected_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Room #{self.pk}"


class RoomParticipant(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_participations"
    )
    joined_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(
        null=True, blank=True, help_text="Set: no longer in the room (left or kicked)."
    )
    connections = models.PositiveIntegerField(
        default=0, help_text="Open sockets of this user in this room, across every process."
    )

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="room_participant_unique"),
        ]
        # (room, user) is indexed by the constraint; "my rooms" looks up by user first.
        indexes = [models.Index(fields=["user", "room"], name="room_participant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in room #{self.room_id}"

    @property
    def is_present(self) -> bool:
        return self.left_at is None


class RoomBan(models.Model):
    """A user kicked from a room: they cannot join it again."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_bans"
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="room_bans_given",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="room_ban_unique")]

    def __str__(self) -> str:
        return f"{self.user} banned from room #{self.room_id}"


class RoomInvitation(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="invitations")
    inviter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_invitations_sent"
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_invitations"
    )
    status = models.CharField(
        max_length=16, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # One open invitation per person and room; answered ones stay as history.
            models.UniqueConstraint(
                fields=["room", "invitee"],
                condition=models.Q(status="pending"),
                name="room_invitation_pending_unique",
            ),
        ]
        indexes = [models.Index(fields=["invitee", "status"], name="room_invitation_inbox_idx")]

    def __str__(self) -> str:
        return f"Invitation of {self.invitee} to room #{self.room_id}"


class ChatMessage(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="messages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_messages"
    )
    message = models.TextField(max_length=MESSAGE_MAX_LENGTH)
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["room", "-id"], name="chat_room_newest_idx"),
            # The flood guard counts one user's recent messages in one room.
            models.Index(fields=["room", "user", "created_at"], name="chat_room_user_time_idx"),
        ]

    def __str__(self) -> str:
        text = self.message if len(self.message) <= 40 else f"{self.message[:39]}…"
        return f"{self.user}: {text}"
