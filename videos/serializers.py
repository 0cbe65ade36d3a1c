"""The `Video` shape of the API contract, and the inputs for creating and editing one.

Other apps that list videos (GET /api/channels/{id}/videos) use `VideoSerializer` with
`video_serializer_context(request)`, which resolves the caller's subscriptions once for the
whole page:

    context = video_serializer_context(request)
    VideoSerializer(page, many=True, context=context).data
"""

from collections.abc import Mapping

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import PublicUserSerializer
from channels_app.models import Channel
from videos.models import AccessLevel, Video, VideoStatus
from videos.policies import Viewer, can_watch, show_ads
from videos.selectors import subscription_map, viewer_for
from videos.services import DESCRIPTION_MAX_LENGTH, TITLE_MAX_LENGTH

SUBSCRIPTIONS = "subscriptions"
NULLABLE_URL = serializers.CharField(allow_null=True)


def video_serializer_context(request, **extra) -> dict:
    """Serializer context for `VideoSerializer`: the request and the caller's subscriptions
    (channel id → is_sponsor), fetched in one query so a page of videos costs no more."""
    return {"request": request, SUBSCRIPTIONS: subscription_map(request.user), **extra}


class VideoChannelSerializer(serializers.ModelSerializer):
    owner = PublicUserSerializer(read_only=True)

    class Meta:
        model = Channel
        fields = ["id", "title", "owner"]
        read_only_fields = fields


class VideoSerializer(serializers.ModelSerializer):
    """A video as the caller sees it: `can_watch`, `show_ads` and the URLs depend on who asks."""

    # Expects select_related("channel", "channel__owner") (videos.selectors does it) and the
    # context from `video_serializer_context`; without the `subscriptions` key it fetches them
    # once and keeps them in the shared context, so a list never costs one query per row.

    channel = VideoChannelSerializer(read_only=True)
    duration = serializers.FloatField(read_only=True, help_text="Seconds, probed from the file.")
    thumbnail_url = serializers.CharField(read_only=True, allow_null=True)
    can_watch = serializers.SerializerMethodField()
    show_ads = serializers.SerializerMethodField()
    stream_url = serializers.SerializerMethodField(
        help_text="The bytes, with Range support; null when the caller cannot watch."
    )
    hls_url = serializers.SerializerMethodField(
        help_text="HLS master playlist; null until adaptive streaming exists or when the "
        "caller cannot watch."
    )

    class Meta:
        model = Video
        fields = [
            "id",
            "channel",
            "title",
            "description",
            "duration",
            "access_level",
            "has_ads",
            "status",
            "view_count",
            "created_at",
            "thumbnail_url",
            "can_watch",
            "show_ads",
            "stream_url",
            "hls_url",
        ]
        read_only_fields = fields

    def _viewer(self, video: Video) -> Viewer:
        context = self.context
        request = context.get("request")
        user = getattr(request, "user", None)
        if SUBSCRIPTIONS not in context:
            context[SUBSCRIPTIONS] = subscription_map(user)
        return viewer_for(user, video.channel, subscriptions=context[SUBSCRIPTIONS])

    def get_can_watch(self, video: Video) -> bool:
        return can_watch(access_level=video.access_level, viewer=self._viewer(video))

    def get_show_ads(self, video: Video) -> bool:
        return show_ads(
            has_ads=video.has_ads, access_level=video.access_level, viewer=self._viewer(video)
        )

    @extend_schema_field(NULLABLE_URL)
    def get_stream_url(self, video: Video) -> str | None:
        return video.stream_url if self.get_can_watch(video) else None

    @extend_schema_field(NULLABLE_URL)
    def get_hls_url(self, video: Video) -> str | None:
        return video.hls_url if self.get_can_watch(video) else None


class VideoCreateSerializer(serializers.Serializer):
    """Body of POST /api/videos: the file itself (multipart), or the id of a finished resumable
    upload (`/api/uploads`, multipart or JSON). Exactly one of the two."""

    file = serializers.FileField(
        required=False, help_text="The video. Its content is probed, not its name."
    )
    upload_id = serializers.UUIDField(
        required=False,
        help_text="Instead of `file`: a complete upload of the caller's from /api/uploads (tus).",
    )
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False, default=""
    )
    access_level = serializers.ChoiceField(
        choices=AccessLevel.choices, required=False, default=AccessLevel.PUBLIC
    )
    has_ads = serializers.BooleanField(required=False, default=False)
    duration = serializers.FloatField(
        required=False,
        allow_null=True,
        write_only=True,
        help_text="Ignored: the duration is always probed from the file.",
    )

    def to_internal_value(self, data):
        if not isinstance(data, Mapping):
            # A JSON array or scalar: DRF's own "Expected a dictionary" 400, before `.get`.
            return super().to_internal_value(data)
        # Checked beside the field errors, not after them, so a request missing both the file
        # and the title hears about both at once.
        errors: dict = {}
        try:
            values = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors, values = dict(exc.detail), {}
        given = [name for name in ("file", "upload_id") if data.get(name) not in (None, "")]
        if not given and "file" not in errors:
            errors["file"] = [self.fields["file"].error_messages["required"]]
        elif len(given) == 2:
            errors.setdefault("upload_id", []).append("Send either a file or an upload_id.")
        if errors:
            raise serializers.ValidationError(errors)
        return values


class VideoUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=TITLE_MAX_LENGTH, required=False)
    description = serializers.CharField(
        max_length=DESCRIPTION_MAX_LENGTH, allow_blank=True, required=False
    )
    access_level = serializers.ChoiceField(choices=AccessLevel.choices, required=False)
    has_ads = serializers.BooleanField(required=False)


class ProcessingSerializer(serializers.Serializer):
    """Where a video's background job stands (its owner's and staff's view)."""

    status = serializers.ChoiceField(choices=VideoStatus.choices)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    failure_reason = serializers.CharField(allow_blank=True)
    stalled = serializers.BooleanField()
    can_requeue = serializers.BooleanField()
    renditions = serializers.ListField(child=serializers.CharField())
