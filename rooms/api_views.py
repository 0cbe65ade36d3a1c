"""Thin API views over rooms.services and selectors (contract: API.md, "Watch rooms")."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from rooms import services
from rooms.models import Room, RoomInvitation
from rooms.selectors import (
    chat_messages,
    is_participant,
    pending_invitations,
    room_for_viewer,
    rooms_visible_to,
    rooms_with_counts,
)
from rooms.serializers import (
    ChatMessageSerializer,
    InvitationSerializer,
    InviteSerializer,
    RoomCreateSerializer,
    RoomDetailSerializer,
    RoomSerializer,
    RoomUpdateSerializer,
)
from videohost.api.schema import errors
from videohost.errors import InvalidInput, NotAllowed

JOIN_ERRORS = errors(
    e401="Not authenticated.",
    e403="You cannot watch the video, were removed from the room, or it is private and you "
    "have no invitation.",
    e404="No such room, or it is closed.",
    e409="Room is full.",
)


@extend_schema_view(
    list=extend_schema(
        summary="Open watch rooms",
        description="Active rooms, newest first: public ones, and private ones you are in or "
        "invited to.",
    ),
    retrieve=extend_schema(
        summary="A watch room, with who is in it",
        responses={
            200: RoomDetailSerializer,
            **errors(e404="No such room, closed, or private and not yours to see."),
        },
    ),
)
class RoomViewSet(viewsets.GenericViewSet):
    serializer_class = RoomSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return rooms_visible_to(user=self.request.user)

    def _detail(self, room: Room | int) -> dict:
        """The room as its detail form, read again after a change (any visibility)."""
        room_id = room.pk if isinstance(room, Room) else room
        fresh = rooms_with_counts().get(pk=room_id)
        return RoomDetailSerializer(fresh, context=self.get_serializer_context()).data

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        room = room_for_viewer(room_id=pk, user=request.user)
        return Response(RoomDetailSerializer(room, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Open a watch room",
        description="You become its host and first participant. Regular hosts may have up "
        "to 10 participants (the default); the owner and the sponsors of the video's channel "
        "may set any cap or none, and get none by default.",
        request=RoomCreateSerializer,
        responses={
            201: RoomDetailSerializer,
            **errors(
                e400="Invalid input, or `max_participants` above your cap.",
                e401="Not authenticated.",
                e403="You cannot watch this video.",
                e404="No such video.",
            ),
        },
    )
    def create(self, request):
        data = RoomCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room = services.room_create(user=request.user, **data.validated_data)
        return Response(self._detail(room), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change the room's settings",
        description="Host only. Connected participants receive `room_updated` with the "
        "changed settings.",
        request=RoomUpdateSerializer,
        responses={
            200: RoomDetailSerializer,
            **errors(
                e400="Invalid input, or `max_participants` above your cap.",
                e401="Not authenticated.",
                e403="Not the host.",
                e404="No such room, or it is closed.",
            ),
        },
    )
    def partial_update(self, request, pk=None):
        data = RoomUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        room, _ = services.room_update(room_id=pk, actor=request.user, **data.validated_data)
        return Response(self._detail(room))

    @extend_schema(
        summary="Join the room",
        description="Idempotent: joining a room you are in changes nothing.",
        request=None,
        responses={200: RoomDetailSerializer, **JOIN_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        return Response(self._detail(services.room_join(room_id=pk, user=request.user)))

    @extend_schema(
        summary="Leave the room",
        description="When the host leaves, the room closes for everyone (`is_active` false).",
        request=None,
        responses={
            200: RoomSerializer,
            **errors(
                e401="Not authenticated.",
                e403="You are not in this room.",
                e404="No such room, or it is closed.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        room = services.room_leave(room_id=pk, user=request.user)
        fresh = rooms_with_counts().get(pk=room.pk)
        return Response(RoomSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Remove someone from the room",
        description="Host only. The user is disconnected and cannot join again.",
        request=None,
        responses={
            200: RoomDetailSerializer,
            **errors(
                e400="You cannot remove yourself.",
                e401="Not authenticated.",
                e403="Not the host.",
                e404="No such room, or that user is not in it.",
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path=r"kick/(?P<user_id>\d+)")
    def kick(self, request, pk=None, user_id=None):
        services.room_kick(room_id=pk, actor=request.user, user_id=int(user_id))
        return Response(self._detail(pk))

    @extend_schema(
        summary="Invite someone to the room",
        request=InviteSerializer,
        responses={
            201: InvitationSerializer,
            **errors(
                e400="Give either user_id or username.",
                e401="Not authenticated.",
                e403="You are not in this room.",
                e404="No such room or user.",
                e409="Already invited, or already in the room.",
            ),
        },
    )
    @action(detail=True, methods=["post"])
    def invite(self, request, pk=None):
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        invitation = services.room_invite(room_id=pk, actor=request.user, **data.validated_data)
        invitation = RoomInvitation.objects.select_related("inviter", "invitee").get(
            pk=invitation.pk
        )
        return Response(InvitationSerializer(invitation).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="The room's chat, newest first",
        parameters=[
            OpenApiParameter(
                "before",
                OpenApiTypes.INT,
                description="Only messages older than this message id (for scrolling back).",
            )
        ],
        responses={
            200: ChatMessageSerializer(many=True),
            **errors(
                e400="`before` is not a message id.",
                e401="Not authenticated.",
                e403="You are not in this room.",
                e404="No such room, closed, or private and not yours to see.",
            ),
        },
    )
    @action(detail=True, methods=["get"], permission_classes=[IsAuthenticated])
    def messages(self, request, pk=None):
        room = room_for_viewer(room_id=pk, user=request.user)
        if not is_participant(room=room, user=request.user):
            raise NotAllowed("Only people in the room can read its chat.")
        before = request.query_params.get("before")
        if before is not None:
            try:
                before = int(before)
            except ValueError:
                message = "A message id."
                raise InvalidInput(f"before: {message}", details={"before": [message]}) from None
        page = self.paginate_queryset(chat_messages(room, before=before))
        return self.get_paginated_response(ChatMessageSerializer(page, many=True).data)


class InvitationViewSet(viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = InvitationSerializer
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return pending_invitations(user=self.request.user)

    @extend_schema(
        summary="Your pending invitations",
        responses={200: InvitationSerializer(many=True), **errors(e401="Not authenticated.")},
    )
    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        summary="Accept an invitation and join the room",
        request=None,
        responses={
            200: RoomDetailSerializer,
            **{
                **JOIN_ERRORS,
                **errors(e404="No pending invitation of yours, or the room is closed."),
            },
        },
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        room = services.invitation_accept(invitation_id=pk, user=request.user)
        fresh = rooms_with_counts().get(pk=room.pk)
        return Response(RoomDetailSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Decline an invitation",
        request=None,
        responses={
            200: InvitationSerializer,
            **errors(e401="Not authenticated.", e404="No pending invitation of yours."),
        },
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        services.invitation_decline(invitation_id=pk, user=request.user)
        invitation = RoomInvitation.objects.select_related("inviter", "invitee").get(pk=pk)
        return Response(InvitationSerializer(invitation).data)
