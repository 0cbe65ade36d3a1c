"""Thin API views over videos.services and selectors (contract: API.md, "Videos")."""

import logging

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from uploads.selectors import upload_for_owner
from uploads.services import upload_finish
from videohost.api.schema import errors
from videohost.errors import PayloadTooLarge
from videos import services
from videos.models import AccessLevel, Video
from videos.selectors import (
    channel_for_upload,
    listed_videos,
    processing_state,
    video_for_viewer,
)
from videos.serializers import (
    ProcessingSerializer,
    VideoCreateSerializer,
    VideoSerializer,
    VideoUpdateSerializer,
    video_serializer_context,
)
from videos.uploads import MULTIPART_ALLOWANCE, too_large_message

logger = logging.getLogger(__name__)

ORDERINGS = [
    ("-created_at", "Newest first"),
    ("-view_count", "Most viewed first"),
    ("title", "Title A→Z"),
]


@extend_schema_field(OpenApiTypes.INT)
class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class VideoFilter(django_filters.FilterSet):
    # Through the channel's id, not the column: Django's integer lookups answer an id no
    # 64-bit key can hold with no rows, where a bare foreign-key column hands it to the
    # driver (SQLite's raises OverflowError: a 500).
    channel = IntegerFilter(field_name="channel__id", help_text="A channel id.")
    access_level = django_filters.ChoiceFilter(choices=AccessLevel.choices)
    q = django_filters.CharFilter(
        method="search", help_text="Matches the title or description (case-insensitive)."
    )
    ordering = django_filters.ChoiceFilter(
        choices=ORDERINGS,
        method="order",
        empty_label=None,
        help_text="`-created_at` (default), `-view_count` or `title`; anything else is a 400.",
    )

    class Meta:
        model = Video
        fields = ["channel", "access_level", "q", "ordering"]

    def search(self, queryset: QuerySet[Video], name: str, value: str) -> QuerySet[Video]:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(title__icontains=value) | Q(description__icontains=value))

    def order(self, queryset: QuerySet[Video], name: str, value: str) -> QuerySet[Video]:
        return queryset.order_by(value, "-id")  # the id breaks ties, so pages never overlap


def refuse_oversize_body(request) -> None:
    """413 from the declared length alone, before a byte of the body is read.

    The upload handler (videos.uploads) enforces the same limit while streaming, for clients
    that send no length or a false one.
    """
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > settings.MAX_UPLOAD_SIZE + MULTIPART_ALLOWANCE:
        raise PayloadTooLarge(too_large_message())


@extend_schema_view(
    list=extend_schema(
        summary="List videos",
        description="Ready, unhidden videos of every access level, each with the caller's "
        "`can_watch` and `show_ads`.",
        responses={200: VideoSerializer(many=True), **errors(e400="Invalid filter or ordering.")},
    ),
    retrieve=extend_schema(
        summary="A video",
        responses={
            200: VideoSerializer,
            **errors(e404="No such video, or not ready or hidden (except to owner and staff)."),
        },
    ),
)
class VideoViewSet(viewsets.GenericViewSet):
    serializer_class = VideoSerializer
    filterset_class = VideoFilter
    lookup_value_regex = r"\d+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Video]:
        return listed_videos()

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), **video_serializer_context(self.request)}

    def initial(self, request, *args, **kwargs):
        if self.action == "create":
            # Before authentication too: session authentication's CSRF check parses the body.
            refuse_oversize_body(request)
        super().initial(request, *args, **kwargs)

    def _video(self) -> Video:
        video, _ = video_for_viewer(user=self.request.user, video_id=self.kwargs["pk"])
        return video

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._video()).data)

    @extend_schema(
        summary="Upload a video",
        description="Send the `file` itself (multipart), or the `upload_id` of a complete "
        "resumable upload made through `/api/uploads` (tus; multipart or JSON), which suits "
        "large files and unreliable connections. Either way the content is probed: it must be "
        "a complete video in a known container. Duration, size and dimensions come from the "
        "probe; a client `duration` is ignored. The caller must own a channel. A used upload is "
        "gone afterwards.",
        request={
            "multipart/form-data": VideoCreateSerializer,
            "application/json": VideoCreateSerializer,
        },
        responses={
            201: VideoSerializer,
            **errors(
                e400="Missing or invalid fields, or both or neither of `file` and `upload_id`; "
                "`details` names them.",
                e401="Not authenticated.",
                e403="The caller has no channel.",
                e404="No such upload, or not the caller's.",
                e409="The upload is not complete yet.",
                e413="Larger than MAX_UPLOAD_SIZE.",
                e415="Not a playable video.",
            ),
        },
    )
    def create(self, request):
        channel_for_upload(user=request.user)  # 403 before the body is parsed
        data = VideoCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        details = {
            "title": fields["title"],
            "description": fields["description"],
            "access_level": fields["access_level"],
            "has_ads": fields["has_ads"],
        }
        if "upload_id" in fields:
            upload = upload_for_owner(user=request.user, upload_id=fields["upload_id"])
            video = upload_finish(user=request.user, upload=upload, **details)
        else:
            video = services.video_upload(
                user=request.user, uploaded_file=fields["file"], **details
            )
        return Response(self.get_serializer(video).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Edit a video",
        request=VideoUpdateSerializer,
        responses={
            200: VideoSerializer,
            **errors(
                e400="Invalid input.",
                e401="Not authenticated.",
                e403="Not the channel's owner.",
                e404="No such video.",
            ),
        },
    )
    def partial_update(self, request, pk=None):
        video = self._video()
        data = VideoUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        video = services.video_update(video=video, actor=request.user, **data.validated_data)
        return Response(self.get_serializer(video).data)

    @extend_schema(
        summary="Delete a video",
        description="Its files are deleted from storage.",
        responses={
            204: None,
            **errors(
                e401="Not authenticated.", e403="Not the channel's owner.", e404="No such video."
            ),
        },
    )
    def destroy(self, request, pk=None):
        services.video_delete(video=self._video(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Processing state of a video",
        description="For its channel's owner and staff: where the background job stands "
        "(`progress` in percent while `processing`), why it failed, and whether it may be "
        "re-queued (failed, or no sign of life for `VIDEO_PROCESSING_STALL_SECONDS`).",
        responses={
            200: ProcessingSerializer,
            **errors(
                e401="Not authenticated.",
                e403="Not the channel's owner or staff.",
                e404="No such video.",
            ),
        },
    )
    @action(detail=True, methods=["get"], permission_classes=[IsAuthenticated])
    def processing(self, request, pk=None):
        video = self._video()
        return Response(ProcessingSerializer(processing_state(video=video, user=request.user)).data)

    @extend_schema(
        summary="Re-queue processing",
        description="Run the processing job again for a failed or stuck video; answers its "
        "processing state.",
        request=None,
        responses={
            202: ProcessingSerializer,
            **errors(
                e401="Not authenticated.",
                e403="Not the channel's owner or staff.",
                e404="No such video.",
                e409="The video is ready, or its job is still alive.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def requeue(self, request, pk=None):
        video = services.video_requeue(video=self._video(), actor=request.user)
        state = processing_state(video=video, user=request.user)
        return Response(ProcessingSerializer(state).data, status=status.HTTP_202_ACCEPTED)
