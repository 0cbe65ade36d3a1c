from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer
from channels_app.models import Channel, Subscription
from channels_app.selectors import viewer_subscription

TITLE_MAX_LENGTH = Channel._meta.get_field("title").max_length
DESCRIPTION_MAX_LENGTH = Channel._meta.get_field("description").max_length


class SubscriptionSerializer(serializers.ModelSerializer):
    channel_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "channel_id", "is_sponsor", "created_at"]
        read_only_fields = fields


class SubscriptionCreateSerializer(serializers.Serializer):
    # No range check here: an id that matches no channel is a 404 from the service, not a 400.
    channel_id = serializers.IntegerField()
    is_sponsor = serializers.BooleanField(default=False)


class SubscriptionUpdateSerializer(serializers.Serializer):
    is_sponsor = serializers.BooleanField()


class ChannelSerializer(serializers.ModelSerializer):
    """A channel with its counts and the caller's own subscription to it."""

    owner = PublicUserSerializer(read_only=True)
    subscribers_count = serializers.IntegerField(read_only=True)
    sponsors_count = serializers.IntegerField(read_only=True)
    videos_count = serializers.IntegerField(read_only=True)
    subscription = serializers.SerializerMethodField(
        help_text="The caller's subscription to this channel, or null."
    )

    class Meta:
        model = Channel
        fields = [
            "id",
            "owner",
            "title",
            "description",
            "subscribers_count",
            "sponsors_count",
            "videos_count",
            "is_live",
            "created_at",
            "subscription",
        ]
        read_only_fields = fields

    @extend_schema_field(SubscriptionSerializer(allow_null=True))
    def get_subscription(self, channel: Channel) -> dict | None:
        subscription = viewer_subscription(channel)
        return SubscriptionSerializer(subscription).data if subscription else None


class ChannelCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False, default=""
    )


class ChannelUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False
    )
