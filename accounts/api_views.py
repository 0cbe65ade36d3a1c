"""The Auth section of the API contract: thin views over accounts.services."""

from django.contrib.auth import logout as session_logout
from django.contrib.auth import update_session_auth_hash
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from rest_framework import permissions, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.serializers import (
    LoginResponseSerializer,
    LoginSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    ProfileUpdateSerializer,
    RegisterSerializer,
    UserSerializer,
)
from accounts.throttle import client_address
from videohost.api.schema import ErrorSerializer


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


UNAUTHORIZED = _error("Not signed in, or the token is invalid or expired.")
BAD_REQUEST = _error("Invalid input; `details` holds messages per field.")
FORBIDDEN = _error("CSRF check failed (session authentication only).")


class RegisterView(APIView):
    # Anonymous sign-up: no session means no CSRF token to demand from JSON clients.
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["auth"],
        summary="Create an account",
        request=RegisterSerializer,
        responses={
            201: UserSerializer,
            400: BAD_REQUEST,
            409: _error("The username or email is taken (case-insensitive)."),
        },
    )
    def post(self, request):
        data = RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.user_register(**data.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class LoginView(APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        tags=["auth"],
        summary="Exchange a username and password for a token",
        description="Tokens are valid for AUTH_TOKEN_TTL (24 hours by default). Five failed "
        "attempts within five minutes for the same username or client address lock it out "
        "(429 with Retry-After), even for the right password.",
        request=LoginSerializer,
        responses={
            200: LoginResponseSerializer,
            400: BAD_REQUEST,
            401: _error("Invalid username or password"),
            429: _error("Too many failed attempts; see the Retry-After header."),
        },
    )
    def post(self, request):
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.auth_login(
            username=data.validated_data["username"],
            password=data.validated_data["password"],
            client_ip=client_address(request),
        )
        token, raw = services.token_issue(user=user)
        body = {"token": raw, "expires_at": token.expiry, "user": user}
        return Response(LoginResponseSerializer(body).data)


class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=["auth"],
        summary="The signed-in user",
        responses={200: UserSerializer, 401: UNAUTHORIZED},
    )
    def get(self, request):
        return Response(UserSerializer(request.user).data)

    @extend_schema(
        tags=["auth"],
        summary="Edit the profile",
        description="JSON, or multipart/form-data to upload an avatar (JPEG, PNG, GIF or WebP, "
        "at most MAX_AVATAR_SIZE bytes). The image is re-encoded as a square JPEG. Send "
        '`"avatar": null` (JSON) or an empty `avatar` field to remove it.',
        request=ProfileUpdateSerializer,
        responses={200: UserSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 403: FORBIDDEN},
    )
    def patch(self, request):
        data = ProfileUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        avatar = fields.get("avatar")
        user = services.user_update_profile(
            user=request.user,
            display_name=fields.get("display_name"),
            bio=fields.get("bio"),
            avatar=avatar or None,
            remove_avatar="avatar" in fields and not avatar,
        )
        return Response(UserSerializer(user).data)


class PasswordView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        summary="Change the password",
        description="Every other token of the user is revoked; the one used for this call "
        "keeps working.",
        request=PasswordChangeSerializer,
        responses={200: MessageSerializer, 400: BAD_REQUEST, 401: UNAUTHORIZED, 403: FORBIDDEN},
    )
    def post(self, request):
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        keep = request.auth if isinstance(request.auth, AuthToken) else None
        user = services.user_change_password(
            user=request.user,
            old_password=data.validated_data["old_password"],
            new_password=data.validated_data["new_password"],
            keep_token=keep,
        )
        if keep is None:
            # Signed in by session: keep this session while every other one is cut off.
            update_session_auth_hash(request._request, user)
        return Response({"message": "Password changed successfully"})


class LogoutView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        tags=["auth"],
        summary="Revoke the token used for this call (or end the session)",
        request=None,
        responses={200: MessageSerializer, 401: UNAUTHORIZED, 403: FORBIDDEN},
    )
    def post(self, request):
        if isinstance(request.auth, AuthToken):
            services.token_revoke(token=request.auth)
        else:
            session_logout(request._request)
        return Response({"message": "Logged out successfully"})
