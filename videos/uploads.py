"""Upload handling that never holds a large body in memory and stops at MAX_UPLOAD_SIZE."""

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.core.files.uploadhandler import TemporaryFileUploadHandler

from videohost.errors import PayloadTooLarge

# Multipart framing and the small text fields around the file.
MULTIPART_ALLOWANCE = 64 * 1024


class UploadTooLarge(PayloadTooLarge, RequestDataTooBig):
    """413 in the API (a DomainError); a plain 400 on Django pages (a SuspiciousOperation)."""


def too_large_message() -> str:
    limit_mib = settings.MAX_UPLOAD_SIZE / (1024 * 1024)
    return f"The upload is larger than the {limit_mib:g} MiB allowed."


class LimitedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    """Streams file parts to temporary files and refuses bodies over the limit.

    The declared Content-Length is checked before any byte is read; the running count is
    checked as chunks arrive, for clients that lie about the length or send it chunked.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > settings.MAX_UPLOAD_SIZE + MULTIPART_ALLOWANCE:
            raise UploadTooLarge(too_large_message())
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > settings.MAX_UPLOAD_SIZE:
            raise UploadTooLarge(too_large_message())
        return super().receive_data_chunk(raw_data, start)
