"""Serving a stored file's bytes with single-range support (RFC 9110 §14).

Works over any Django storage backend: the file is read through `storage.open()` in fixed
chunks, so memory stays flat whatever the size, and nothing here knows about local paths.
The access check happens before any of this runs (see `videos.selectors.video_for_playback`).
"""

import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime

from asgiref.sync import sync_to_async
from django.core.files import File
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.http import http_date, parse_http_date_safe

from videohost.errors import DomainError

CHUNK_SIZE = 256 * 1024

_RANGE_SPEC = re.compile(r"^(\d*)-(\d*)$")


class RangeNotSatisfiable(DomainError):
    status_code = 416
    code = "RANGE_NOT_SATISFIABLE"
    default_message = "The requested range is not satisfiable."

    def __init__(self, *, size: int):
        self.size = size
        super().__init__(f"The requested range is outside the file's {size} bytes.")


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive, as in Content-Range

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range to serve, None for the whole file, or RangeNotSatisfiable.

    Other units and multi-range requests get the whole file (RFC 9110 lets a server ignore
    Range); a malformed or out-of-bounds byte range is refused with 416.
    """
    if not header:
        return None
    unit, _, ranges = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    specs = [spec.strip() for spec in ranges.split(",")]
    if len(specs) != 1:
        # Multipart/byteranges responses buy a player nothing; 200 with everything is allowed.
        return None
    match = _RANGE_SPEC.match(specs[0])
    if not match or match.group(0) == "-":
        raise RangeNotSatisfiable(size=size)
    first, last = match.groups()
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise RangeNotSatisfiable(size=size)
        return ByteRange(max(0, size - suffix), size - 1)
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable(size=size)
    return ByteRange(start, min(end, size - 1))


class FileChunks:
    """Iterates `length` bytes of an open file from `start`; closed by the response.

    A class rather than a generator: Django calls `close()` on the streaming content when
    the response finishes, and a generator that never started would not run its `finally`.
    """

    def __init__(self, file: File, *, start: int, length: int, chunk_size: int = CHUNK_SIZE):
        self.file = file
        self.start = start
        self.remaining = length
        self.chunk_size = chunk_size

    def __iter__(self) -> Iterator[bytes]:
        try:
            self.file.seek(self.start)
            while self.remaining > 0:
                chunk = self.file.read(min(self.chunk_size, self.remaining))
                if not chunk:
                    break
                self.remaining -= len(chunk)
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        self.file.close()


class AsyncFileChunks(FileChunks):
    """FileChunks for an ASGI request: under ASGI, Django reads a *sync* iterator to its end
    before it sends a byte (a whole video in memory, and the first byte only after the last
    was read). This one reads each chunk on a worker thread as the response is sent.

    A separate class because Django streams anything with `__aiter__` asynchronously, and
    under WSGI (and the test client) would then read that to its end instead."""

    def __iter__(self) -> Iterator[bytes]:
        raise TypeError("AsyncFileChunks is iterated asynchronously")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seek = sync_to_async(self.file.seek, thread_sensitive=False)
        read = sync_to_async(self.file.read, thread_sensitive=False)
        try:
            await seek(self.start)
            while self.remaining > 0:
                chunk = await read(min(self.chunk_size, self.remaining))
                if not chunk:
                    break
                self.remaining -= len(chunk)
                yield chunk
        finally:
            self.close()


def _if_range_matches(header: str, *, etag: str, last_modified: datetime) -> bool:
    if header.startswith(('"', "W/")):
        return header == etag
    # A date only validates when it is exactly the Last-Modified sent (RFC 9110 §13.1.5).
    return parse_http_date_safe(header) == int(last_modified.timestamp())


def _etag_matches(header: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def stream_file(
    request: HttpRequest,
    file: File,
    *,
    size: int,
    content_type: str,
    etag: str,
    last_modified: datetime,
) -> HttpResponse:
    """200/206/304 response for an already access-checked, open `file`; HEAD gets no body.

    Raises RangeNotSatisfiable (416) before anything is sent. `etag` must change whenever
    the bytes do (If-Range compares it), so callers derive it from an immutable name.
    """
    headers = {
        "Accept-Ranges": "bytes",
        "Cache-Control": "private",
        "X-Content-Type-Options": "nosniff",
        "ETag": etag,
        "Last-Modified": http_date(last_modified.timestamp()),
    }
    try:
        if_none_match = request.headers.get("If-None-Match")
        if if_none_match and _etag_matches(if_none_match, etag):
            file.close()
            return HttpResponse(status=304, headers=headers)

        byte_range = parse_range(request.headers.get("Range"), size)
        if_range = request.headers.get("If-Range")
        if (
            byte_range
            and if_range
            and not _if_range_matches(if_range, etag=etag, last_modified=last_modified)
        ):
            byte_range = None  # the client's partial copy is stale: send everything
    except BaseException:
        file.close()
        raise

    if byte_range is None:
        status, start, length = 200, 0, size
    else:
        status, start, length = 206, byte_range.start, byte_range.length
        headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    headers["Content-Length"] = str(length)

    if request.method == "HEAD":
        file.close()
        return HttpResponse(status=status, content_type=content_type, headers=headers)
    # DRF's Request wraps Django's.
    served_by_asgi = isinstance(getattr(request, "_request", request), ASGIRequest)
    chunks = AsyncFileChunks if served_by_asgi else FileChunks
    return StreamingHttpResponse(
        chunks(file, start=start, length=length),
        status=status,
        content_type=content_type,
        headers=headers,
    )
