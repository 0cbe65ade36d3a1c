"""`/media/` serves MEDIA_ROOT/public and nothing else, however the path is spelled.

Video originals (MEDIA_ROOT/private) and files outside MEDIA_ROOT are asked for with `..`,
encoded and double-encoded dots and slashes, backslashes, absolute paths, NUL bytes and
overlong names, through Django's test client and raw over HTTP to a real daphne process (whose
own path decoding is what production sees). Every answer is a refusal (400 or 404) that holds
none of the secret bytes, and none is a 500. No symlinks are involved: the question is only
whether the route itself can be walked out of. The HLS routes' traversal cases are in
videos/tests/test_hls_access.py (`test_paths_outside_the_ladder_are_not_found`).
"""

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core.files.base import ContentFile

from videohost.storage import private_storage, public_storage

SECRET = b"original bytes nobody may fetch by path"
OUTSIDE = b"a file beside MEDIA_ROOT"


@pytest.fixture
def files(tmp_path):
    """A public file, a private "original", and a file outside MEDIA_ROOT: their names."""
    public = public_storage().save("avatars/face.jpg", ContentFile(b"\xff\xd8 a face"))
    private = private_storage().save("videos/abc/original.mp4", ContentFile(SECRET))
    outside = Path(settings.MEDIA_ROOT).parent / f"{Path(settings.MEDIA_ROOT).name}-secret.txt"
    outside.write_bytes(OUTSIDE)
    yield {"public": public, "private": private, "outside": outside}
    outside.unlink()


def hostile_paths(files) -> list[str]:
    private, outside = files["private"], files["outside"]
    root = Path(settings.MEDIA_ROOT)
    encoded = private.replace("/", "%2F")
    backslashed = private.replace("/", "\\")
    return [
        f"/media/../private/{private}",
        f"/media/avatars/../../private/{private}",
        f"/media/..%2Fprivate%2F{encoded}",
        f"/media/%2e%2e/private/{private}",
        f"/media/%2E%2E%2Fprivate%2F{encoded}",
        f"/media/..%252Fprivate%252F{private.replace('/', '%252F')}",
        f"/media/%252e%252e/private/{private}",
        f"/media/..\\private\\{backslashed}",
        f"/media/..%5Cprivate%5C{private.replace('/', '%5C')}",
        f"/media/....//private/{private}",
        f"/media/.%2e/private/{private}",
        f"/media/{root}/private/{private}",
        f"/media//{root}/private/{private}",
        f"/media/%2F{str(root / 'private' / private).lstrip('/').replace('/', '%2F')}",
        f"/media/../{outside.name}",
        f"/media/../../{root.name}-secret.txt",
        f"/media/{outside}",
        "/media/../../../../../../etc/passwd",
        "/media//etc/passwd",
        "/media/%2Fetc%2Fpasswd",
        f"/media/avatars/face.jpg%00/../../private/{private}",
        "/media/face.jpg%00.png",
        "/media/" + "a" * 5000,
        "/media/" + "a/" * 3000,
        "/media/.",
        "/media/..",
        "/media/avatars/",
        "/media/private/" + private,
    ]


def refused(status: int, body: bytes, path: str) -> None:
    shown = path if len(path) < 200 else f"{path[:100]}… ({len(path)} characters)"
    assert status in (400, 404), (shown, status)
    assert SECRET not in body and OUTSIDE not in body and b"root:" not in body, shown


def test_the_public_file_itself_is_served(client, files):
    response = client.get(f"/media/{files['public']}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\xff\xd8 a face"


def test_no_spelling_of_a_path_leaves_the_public_folder(client, files):
    for path in hostile_paths(files):
        response = client.get(path)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        refused(response.status_code, body, path)


def test_only_get_and_head_are_answered(client, files):
    for method in ("post", "put", "patch", "delete"):
        response = getattr(client, method)(f"/media/{files['public']}")
        assert response.status_code in (403, 405), method
    assert public_storage().exists(files["public"])


def test_raw_requests_to_daphne_never_leave_the_public_folder(live_server_url, files):
    """As sent on the wire, undecoded: daphne's own path handling is part of the route."""
    address = urlsplit(live_server_url)
    for path in hostile_paths(files):
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True)
            connection.endheaders()
            response = connection.getresponse()
            refused(response.status, response.read(), path)
        finally:
            connection.close()
