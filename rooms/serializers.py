"""The `Room`, `ChatMessage` and `Invitation` shapes of API.md, and the inputs that change them.

Room serializers expect rooms from rooms.selectors (owner and video selected, the
`participants_count` annotation), so a page of rooms costs one query. The playback state is
rebased to one `now` per response (`context["now"]`), so every room in it agrees on the time.
"""

import time

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer
from rooms.models import MESSAGE_DELAY_MAX, ChatMessage, Room, RoomInvitation, RoomParticipant
from rooms.selectors import room_participants, room_participants_count, room_state
from videos.models import Video


class RoomVideoSerializer(serializers.ModelSerializer):
    duration = serializers.FloatField(read_only=True, help_text="Seconds.")
    thumbnail_url = serializers.CharField(read_only=True, allow_null=True)

    class Meta:
        model = Video
        fields = ["id", "title", "duration", "thumbnail_url"]
        read_only_fields = fields


class PlaybackStateSerializer(serializers.Serializer):
    position = serializers.FloatField(help_text="Seconds into the video at `server_time`.")
    is_playing = serializers.BooleanField()
    rate = serializers.FloatField()
    server_time = serializers.FloatField(help_text="Unix seconds (server clock).")


class RoomSerializer(serializers.ModelSerializer):
    owner = PublicUserSerializer(read_only=True)
    video = RoomVideoSerializer(read_only=True)
    participants_count = serializers.SerializerMethodField()
    state = serializers.SerializerMethodField(
        help_text="The playback state now: position advanced to `server_time`."
    )

    class Meta:
        model = Room
        fields = [
            "id",
            "owner",
            "video",
            "max_participants",
            "message_delay",
            "is_private",
            "guests_can_control",
            "is_active",
            "participants_count",
            "created_at",
            "state",
        ]
        read_only_fields = fields

    def get_participants_count(self, room: Room) -> int:
        count = getattr(room, "participants_count", None)
        return room_participants_count(room) if count is None else count

    @extend_schema_field(PlaybackStateSerializer)
    def get_state(self, room: Room) -> dict:
        now = self.context.setdefault("now", time.time())
        state = room_state(room, now=now)
        return PlaybackStateSerializer(
            {
                "position": state.position,
                "is_playing": state.is_playing,
                "rate": state.rate,
                "server_time": state.server_time,
            }
        ).data


class RoomParticipantSerializer(serializers.ModelSerializer):
    user = PublicUserSerializer(read_only=True)
    is_host = serializers.SerializerMethodField()

    class Meta:
        model = RoomParticipant
        fields = ["user", "joined_at", "is_host"]
        read_only_fields = fields

    def get_is_host(self, participant: RoomParticipant) -> bool:
        return participant.user_id == participant.room.owner_id


class RoomDetailSerializer(RoomSerializer):
    participants = serializers.SerializerMethodField(help_text="Who is in the room now.")

    class Meta(RoomSerializer.Meta):
        fields = [*RoomSerializer.Meta.fields, "participants"]
        read_only_fields = fields

    @extend_schema_field(RoomParticipantSerializer(many=True))
    def get_participants(self, room: Room) -> list:
        participants = room_participants(room)
        for participant in participants:
            participant.room = room  # is_host reads the owner without another query
        return RoomParticipantSerializer(participants, many=True).data


class RoomCreateSerializer(serializers.Serializer):
    # Ranges and caps are the service's to check (one rule, one message, for every caller);
    # here only the types.
    video_id = serializers.IntegerField()
    max_participants = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="Omit for your default (10, or unlimited for the channel's owner and "
        "sponsors); null for no limit where allowed.",
    )
    message_delay = serializers.IntegerField(
        required=False,
        default=0,
        min_value=0,
        max_value=MESSAGE_DELAY_MAX,
        help_text="Slow mode: seconds between two messages of a guest.",
    )
    is_private = serializers.BooleanField(required=False, default=False)
    guests_can_control = serializers.BooleanField(required=False, default=False)


class RoomUpdateSerializer(serializers.Serializer):
    max_participants = serializers.IntegerField(required=False, allow_null=True)
    message_delay = serializers.IntegerField(
        required=False, min_value=0, max_value=MESSAGE_DELAY_MAX
    )
    is_private = serializers.BooleanField(required=False)
    guests_can_control = serializers.BooleanField(required=False)


class ChatMessageSerializer(serializers.ModelSerializer):
    user = PublicUserSerializer(read_only=True)

    class Meta:
        model = ChatMessage
        fields = ["id", "user", "message", "created_at"]
        read_only_fields = fields


class InvitationSerializer(serializers.ModelSerializer):
    room_id = serializers.IntegerField(read_only=True)
    inviter = PublicUserSerializer(read_only=True)
    invitee = PublicUserSerializer(read_only=True)

    class Meta:
        model = RoomInvitation
        fields = ["id", "room_id", "inviter", "invitee", "status", "created_at"]
        read_only_fields = fields


class InviteSerializer(serializers.Serializer):
    user_id = serializers.IntegerField(required=False)
    username = serializers.CharField(required=False, max_length=150)

    def validate(self, attrs: dict) -> dict:
        if ("user_id" in attrs) == ("username" in attrs):
            raise serializers.ValidationError({"user_id": ["Give either user_id or username."]})
        return attrs
