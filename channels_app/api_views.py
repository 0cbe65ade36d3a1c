"""Thin API views over channels_app.services and selectors (contract: API.md, "Channels")."""

from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from channels_app import services
from channels_app.models import Channel, Subscription
from channels_app.selectors import (
    channel_search,
    channel_with_counts,
    channels_with_counts,
    user_subscriptions,
)
from channels_app.serializers import (
    ChannelCreateSerializer,
    ChannelSerializer,
    ChannelUpdateSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from videohost.api.schema import errors
from videohost.errors import NotFound
from videos.selectors import listed_videos
from videos.serializers import VideoSerializer, video_serializer_context


@extend_schema_view(
    list=extend_schema(
        summary="List channels",
        parameters=[
            OpenApiParameter(
                "q", str, description="Matches title, description or owner username (icontains)."
            )
        ],
    ),
    retrieve=extend_schema(
        summary="A channel", responses={200: ChannelSerializer, **errors(e404="No such channel.")}
    ),
)
class ChannelViewSet(viewsets.GenericViewSet):
    serializer_class = ChannelSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return channels_with_counts(user=self.request.user)

    def _channel(self) -> Channel:
        try:
            return Channel.objects.select_related("owner").get(pk=self.kwargs["pk"])
        except Channel.DoesNotExist:
            raise NotFound("Channel not found.") from None

    def _shaped(self, channel: Channel) -> dict:
        return ChannelSerializer(
            channel_with_counts(channel_id=channel.pk, user=self.request.user),
            context=self.get_serializer_context(),
        ).data

    def list(self, request):
        queryset = channel_search(query=request.query_params.get("q"), user=request.user)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        channel = channel_with_counts(channel_id=pk, user=request.user)
        return Response(self.get_serializer(channel).data)

    @extend_schema(
        summary="Create your channel",
        description="A user has at most one channel; creating it makes the user an author.",
        request=ChannelCreateSerializer,
        responses={
            201: ChannelSerializer,
            **errors(
                e400="Invalid title or description.",
                e401="Not authenticated.",
                e409="You already have a channel.",
            ),
        },
    )
    def create(self, request):
        data = ChannelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.channel_create(owner=request.user, **data.validated_data)
        return Response(self._shaped(channel), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change your channel",
        request=ChannelUpdateSerializer,
        responses={
            200: ChannelSerializer,
            **errors(
                e400="Invalid input.",
                e401="Not authenticated.",
                e403="Not the owner.",
                e404="No such channel.",
            ),
        },
    )
    def partial_update(self, request, pk=None):
        channel = self._channel()
        data = ChannelUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.channel_update(channel=channel, actor=request.user, **data.validated_data)
        return Response(self._shaped(channel))

    @extend_schema(
        summary="Delete your channel",
        description="Its videos (and their files), rooms and subscriptions go with it.",
        responses={
            204: None,
            **errors(e401="Not authenticated.", e403="Not the owner.", e404="No such channel."),
        },
    )
    def destroy(self, request, pk=None):
        services.channel_delete(channel=self._channel(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="A channel's videos",
        description="Listed videos only (ready, not hidden), with the caller's `can_watch`; "
        "owners see their unlisted ones in the studio.",
        responses={200: VideoSerializer(many=True), **errors(e404="No such channel.")},
    )
    @action(detail=True, methods=["get"])
    def videos(self, request, pk=None):
        channel = self._channel()
        page = self.paginate_queryset(listed_videos().filter(channel=channel))
        context = {**self.get_serializer_context(), **video_serializer_context(request)}
        return self.get_paginated_response(VideoSerializer(page, many=True, context=context).data)


NOT_YOURS = (
    "No such subscription of yours; someone else's answers 404 so its existence is not leaked."
)


@extend_schema_view(
    list=extend_schema(
        summary="Your subscriptions",
        responses={200: SubscriptionSerializer(many=True), **errors(e401="Not authenticated.")},
    ),
    retrieve=extend_schema(
        summary="One of your subscriptions",
        responses={
            200: SubscriptionSerializer,
            **errors(e401="Not authenticated.", e404=NOT_YOURS),
        },
    ),
)
class SubscriptionViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = SubscriptionSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return user_subscriptions(user=self.request.user)

    def _subscription(self) -> Subscription:
        try:
            return self.get_queryset().get(pk=self.kwargs["pk"])
        except Subscription.DoesNotExist:
            raise NotFound("Subscription not found.") from None

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._subscription()).data)

    @extend_schema(
        summary="Subscribe to a channel",
        request=SubscriptionCreateSerializer,
        responses={
            201: SubscriptionSerializer,
            **errors(
                e400="Your own channel, or invalid input.",
                e401="Not authenticated.",
                e404="No such channel.",
                e409="Already subscribed.",
            ),
        },
    )
    def create(self, request):
        data = SubscriptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_create(user=request.user, **data.validated_data)
        return Response(self.get_serializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Become or stop being a sponsor",
        request=SubscriptionUpdateSerializer,
        responses={
            200: SubscriptionSerializer,
            **errors(e400="Invalid input.", e401="Not authenticated.", e404=NOT_YOURS),
        },
    )
    def partial_update(self, request, pk=None):
        subscription = self._subscription()
        data = SubscriptionUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            subscription=subscription, actor=request.user, **data.validated_data
        )
        return Response(self.get_serializer(subscription).data)

    @extend_schema(
        summary="Unsubscribe",
        responses={204: None, **errors(e401="Not authenticated.", e404=NOT_YOURS)},
    )
    def destroy(self, request, pk=None):
        services.subscription_delete(subscription=self._subscription(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
