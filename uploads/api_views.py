"""A tus 1.0 server under /api/uploads: the core protocol plus the creation, termination and
expiration extensions (https://tus.io/protocols/resumable-upload).

Thin views over uploads.services. Authentication is the API's own (Bearer or session with
CSRF). Errors keep the API's envelope as their body; tus clients only read the status and the
headers, and every response carries `Tus-Resumable`.
"""

import base64
import binascii
import re

from django.conf import settings
from django.urls import reverse
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from uploads import services
from uploads.models import Upload
from uploads.selectors import upload_for_owner
from videohost.api.schema import errors
from videohost.errors import DomainError, InvalidInput, UnsupportedMedia
from videos.selectors import channel_for_upload

TUS_VERSION = "1.0.0"
TUS_EXTENSIONS = "creation,termination,expiration"
OFFSET_STREAM = "application/offset+octet-stream"
# Generous for a file name and type; the header is stored, so it is bounded.
METADATA_MAX_LENGTH = 4096
DIGITS = re.compile(r"[0-9]{1,19}")


class UnsupportedTusVersion(DomainError):
    status_code = 412
    code = "PRECONDITION_FAILED"
    default_message = f"Send Tus-Resumable: {TUS_VERSION}, the tus version this server speaks."


class UploadSerializer(serializers.ModelSerializer):
    expires_at = serializers.DateTimeField(
        read_only=True, help_text="Deleted if no data arrives before then."
    )

    class Meta:
        model = Upload
        fields = ["id", "length", "offset", "filename", "created_at", "expires_at"]
        read_only_fields = fields


def _header_int(request, name: str) -> int:
    raw = request.META.get("HTTP_" + name.upper().replace("-", "_"))
    if raw is None:
        raise InvalidInput(f"The {name} header is required.")
    if not DIGITS.fullmatch(raw.strip()):
        raise InvalidInput(f"{name} must be a whole number of bytes.")
    return int(raw)


def _content_length(request) -> int | None:
    raw = request.META.get("CONTENT_LENGTH")
    if not raw:
        return None
    if not DIGITS.fullmatch(raw.strip()):
        raise InvalidInput("Content-Length must be a whole number of bytes.")
    return int(raw)


def parse_metadata(raw: str) -> dict[str, str]:
    """Upload-Metadata: comma-separated `key base64(value)` pairs; a value may be absent."""
    if len(raw) > METADATA_MAX_LENGTH:
        raise InvalidInput(f"Upload-Metadata is longer than {METADATA_MAX_LENGTH} characters.")
    metadata: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in raw.split(","))):
        key, _, value = pair.partition(" ")
        if key in metadata or " " in value.strip():
            raise InvalidInput("Upload-Metadata must be comma-separated `key base64value` pairs.")
        try:
            metadata[key] = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise InvalidInput(f"Upload-Metadata: the value of {key!r} is not base64.") from None
    return metadata


def encode_metadata(metadata: dict[str, str]) -> str:
    return ",".join(
        f"{key} {base64.b64encode(value.encode()).decode()}" if value else key
        for key, value in metadata.items()
    )


def _expiry(upload: Upload) -> dict[str, str]:
    return {"Upload-Expires": http_date(upload.expires_at.timestamp())}


TUS_RESUMABLE = OpenApiParameter(
    "Tus-Resumable",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    enum=[TUS_VERSION],
    description="The tus version; anything else is a 412.",
)


class TusView(APIView):
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    # Bodies are raw bytes, read from the request in pieces by the service; nothing is parsed.
    parser_classes: list = []

    def get_permissions(self):
        # OPTIONS is discovery: clients (and CORS preflights) ask before sending credentials.
        if self.request.method == "OPTIONS":
            return [AllowAny()]
        return super().get_permissions()

    def perform_content_negotiation(self, request, force=False):
        # tus clients send whatever Accept they like; the only bodies are JSON.
        return super().perform_content_negotiation(request, force=True)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if request.method != "OPTIONS" and request.META.get("HTTP_TUS_RESUMABLE") != TUS_VERSION:
            raise UnsupportedTusVersion

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Tus-Resumable"] = TUS_VERSION
        # A client resumes from the offset it is told; a cached answer would be wrong.
        response["Cache-Control"] = "no-store"
        if response.status_code == status.HTTP_412_PRECONDITION_FAILED:
            response["Tus-Version"] = TUS_VERSION
        return response

    @extend_schema(
        summary="tus capabilities",
        description="Tus-Version, Tus-Max-Size (MAX_UPLOAD_SIZE) and Tus-Extension headers.",
        responses={204: None},
    )
    def options(self, request, *args, **kwargs):
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={
                "Tus-Version": TUS_VERSION,
                "Tus-Max-Size": str(settings.MAX_UPLOAD_SIZE),
                "Tus-Extension": TUS_EXTENSIONS,
            },
        )


class UploadCollectionView(TusView):
    @extend_schema(
        summary="Start a resumable upload (tus creation)",
        description="For files of any size up to MAX_UPLOAD_SIZE, sent in chunks that survive a "
        "dropped connection. `Location` is the upload's URL: PATCH the bytes there, then create "
        "the video with `POST /api/videos` and `upload_id`. The caller must own a channel. "
        "Uploads untouched for UPLOAD_EXPIRY_SECONDS are deleted (`Upload-Expires`).",
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter(
                "Upload-Length",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                required=True,
                description="The file's size in bytes.",
            ),
            OpenApiParameter(
                "Upload-Metadata",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                description="`filename <base64>,filetype <base64>`.",
            ),
        ],
        request=None,
        responses={
            201: UploadSerializer,
            **errors(
                e400="Missing or invalid Upload-Length or Upload-Metadata.",
                e401="Not authenticated.",
                e403="The caller has no channel.",
                e412="Missing or unsupported Tus-Resumable.",
                e413="Upload-Length is over MAX_UPLOAD_SIZE.",
            ),
        },
    )
    def post(self, request):
        channel_for_upload(user=request.user)  # 403 first, as for POST /api/videos
        if "HTTP_UPLOAD_DEFER_LENGTH" in request.META:
            raise InvalidInput("Upload-Defer-Length is not supported; send Upload-Length.")
        upload = services.upload_create(
            user=request.user,
            length=_header_int(request, "Upload-Length"),
            metadata=parse_metadata(request.META.get("HTTP_UPLOAD_METADATA", "")),
        )
        return Response(
            UploadSerializer(upload).data,
            status=status.HTTP_201_CREATED,
            headers={
                "Location": reverse("api-upload-detail", kwargs={"upload_id": upload.pk}),
                **_expiry(upload),
            },
        )


class UploadDetailView(TusView):
    def _upload(self) -> Upload:
        return upload_for_owner(user=self.request.user, upload_id=self.kwargs["upload_id"])

    @extend_schema(
        summary="How far an upload got",
        description="`Upload-Offset` (bytes received), `Upload-Length`, `Upload-Expires` and "
        "`Upload-Metadata` headers; never cached. Only the upload's creator sees it.",
        parameters=[TUS_RESUMABLE],
        responses={
            200: OpenApiResponse(description="The headers above, no body."),
            **errors(
                e401="Not authenticated.",
                e404="No such upload, or not the caller's.",
                e412="Missing or unsupported Tus-Resumable.",
            ),
        },
    )
    def head(self, request, upload_id):
        upload = self._upload()
        headers = {
            "Upload-Offset": str(upload.offset),
            "Upload-Length": str(upload.length),
            **_expiry(upload),
        }
        if upload.metadata:
            headers["Upload-Metadata"] = encode_metadata(upload.metadata)
        return Response(status=status.HTTP_200_OK, headers=headers)

    @extend_schema(
        summary="Send a chunk",
        description="The body is written at `Upload-Offset`, which must equal the upload's "
        "current offset. The answer's `Upload-Offset` is the new one.",
        parameters=[
            TUS_RESUMABLE,
            OpenApiParameter(
                "Upload-Offset",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                required=True,
                description="Where this chunk starts.",
            ),
        ],
        request={OFFSET_STREAM: OpenApiTypes.BINARY},
        responses={
            204: OpenApiResponse(description="Stored; `Upload-Offset` says up to where."),
            **errors(
                e400="Missing or invalid Upload-Offset.",
                e401="Not authenticated.",
                e404="No such upload, or not the caller's.",
                e409="Upload-Offset is not where the upload stands (or another request is "
                "writing it): HEAD, then resume.",
                e412="Missing or unsupported Tus-Resumable.",
                e413="The chunk would pass Upload-Length; nothing of it is kept.",
                e415=f"Content-Type is not {OFFSET_STREAM}.",
            ),
        },
    )
    def patch(self, request, upload_id):
        upload = self._upload()
        if request.content_type.split(";")[0].strip().lower() != OFFSET_STREAM:
            raise UnsupportedMedia(f"Content-Type must be {OFFSET_STREAM}.")
        upload = services.upload_append(
            upload=upload,
            offset=_header_int(request, "Upload-Offset"),
            # The Django request itself: DRF's `stream` is None when Content-Length is absent.
            stream=request._request,
            declared_length=_content_length(request),
        )
        return Response(
            status=status.HTTP_204_NO_CONTENT,
            headers={"Upload-Offset": str(upload.offset), **_expiry(upload)},
        )

    @extend_schema(
        summary="Abandon an upload (tus termination)",
        parameters=[TUS_RESUMABLE],
        responses={
            204: None,
            **errors(
                e401="Not authenticated.",
                e404="No such upload, or not the caller's.",
                e412="Missing or unsupported Tus-Resumable.",
            ),
        },
    )
    def delete(self, request, upload_id):
        services.upload_terminate(upload=self._upload())
        return Response(status=status.HTTP_204_NO_CONTENT)
