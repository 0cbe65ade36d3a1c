"""HTML, SVG with script and polyglot files never become media of this site.

Videos (POST /api/videos) and ad creatives (the admin form and ad_create) are checked by
content and refused with 415 (UNSUPPORTED_MEDIA_TYPE; the admin form shows the refusal on its
field). Ad creatives are stored and served as uploaded, so they are also refused when they
carry something besides the media: markup, or a ZIP archive behind the picture. Avatars
(PATCH /api/auth/me) follow API.md: a file that is not an image is a 400 naming `avatar`; a
real image carrying a payload is re-encoded, so only its pixels are stored.
"""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from accounts.models import User
from videohost.errors import UnsupportedMedia
from videohost.storage import public_storage
from videohost.testing import UserFactory, assert_error_envelope, sample_clip_bytes
from videos.models import Ad, Video
from videos.services import ad_create
from videos.tests.helpers import stored_files

SCRIPT = b"<script>alert(document.cookie)</script>"
HTML = b"<!doctype html><html><body>" + SCRIPT + b"</body></html>"
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" onload="alert(1)">'
    + SCRIPT
    + b"<rect width='64' height='64'/></svg>"
)


def picture(fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 140, 200)).save(buffer, format=fmt, **options)
    return buffer.getvalue()


def zip_archive() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", HTML)
    return buffer.getvalue()


def hostile_files() -> dict[str, bytes]:
    clip = sample_clip_bytes()
    return {
        "html": HTML,
        "svg-with-script": SVG,
        "gif-then-html": picture("GIF") + HTML,
        "gif-with-html-in-a-comment": picture("GIF", comment=HTML),
        "png-then-html": picture("PNG") + HTML,
        "jpeg-then-zip": picture("JPEG") + zip_archive(),
        "mp4-header-then-html": clip[:64] + HTML,
        "html-then-mp4": HTML + clip,
    }


HOSTILE = list(hostile_files())
# Whole media with something behind or inside them: refused where stored as uploaded.
POLYGLOT_PICTURES = [
    "gif-then-html",
    "gif-with-html-in-a-comment",
    "png-then-html",
    "jpeg-then-zip",
]


@pytest.fixture
def before(db):
    return stored_files()


# --- Videos ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("name", ["clip.mp4", "page.html", "image.svg"])
def test_a_hostile_file_is_refused_as_a_video_whatever_its_name(
    kind, name, client_for, author, before
):
    response = client_for(author).post(
        "/api/videos",
        {"file": SimpleUploadedFile(name, hostile_files()[kind], "video/mp4"), "title": "x"},
        format="multipart",
    )
    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert not Video.objects.exists()
    assert stored_files() == before


def test_a_complete_video_with_html_behind_it_is_served_only_as_video(client_for, author):
    """Accepted (the demuxer ignores trailing bytes, and scanning 2 GiB for markup would
    refuse real videos by chance), but never as anything a browser would run: the original
    is private, and its one route sends the probed type with nosniff and a sandbox CSP."""
    client = client_for(author)
    data = sample_clip_bytes() + HTML
    response = client.post(
        "/api/videos",
        {"file": SimpleUploadedFile("clip.html", data, "text/html"), "title": "x"},
        format="multipart",
    )
    assert response.status_code == 201, response.content[:300]
    video = Video.objects.get()
    assert video.file.name.endswith(".mp4") and video.mime_type == "video/mp4"
    served = client.get(f"/api/videos/{video.pk}/stream")
    assert served["Content-Type"] == "video/mp4"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]


# --- Ad creatives ------------------------------------------------------------------------------


@pytest.fixture
def admin_browser(db) -> Client:
    browser = Client()
    browser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return browser


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("field", ["image", "video"])
def test_a_hostile_file_is_refused_as_an_ad_creative(kind, field, before):
    upload = SimpleUploadedFile(f"ad.{'png' if field == 'image' else 'mp4'}", hostile_files()[kind])
    with pytest.raises(UnsupportedMedia):
        ad_create(title="Ad", target_url="https://example.com", **{field: upload})
    assert not Ad.objects.exists()
    assert stored_files() == before


@pytest.mark.parametrize("kind", HOSTILE)
def test_the_ad_form_refuses_a_hostile_image_on_its_field(kind, admin_browser, before):
    response = admin_browser.post(
        "/admin/videos/ad/add/",
        {
            "title": "Buy socks",
            "target_url": "https://socks.example",
            "is_active": "on",
            "image": SimpleUploadedFile("ad.gif", hostile_files()[kind]),
        },
    )
    assert response.status_code == 200, "the form was accepted"
    assert "image" in response.context["adminform"].form.errors
    assert not Ad.objects.exists()
    assert stored_files() == before


def test_a_complete_video_with_html_behind_it_is_refused_as_an_ad(before):
    """Unlike an uploaded video, a creative is public and served as uploaded."""
    upload = SimpleUploadedFile("ad.mp4", sample_clip_bytes() + HTML)
    with pytest.raises(UnsupportedMedia):
        ad_create(title="Ad", target_url="https://example.com", video=upload)
    assert stored_files() == before


@pytest.mark.parametrize("fmt", ["PNG", "GIF", "JPEG", "WEBP"])
def test_a_plain_picture_is_still_a_fine_ad(fmt, db):
    ad = ad_create(
        title="Ad",
        target_url="https://example.com",
        image=SimpleUploadedFile("ad.img", picture(fmt)),
    )
    assert public_storage().exists(ad.image.name)


# --- Avatars -----------------------------------------------------------------------------------


def patch_avatar(client, name: str, data: bytes):
    return client.patch(
        "/api/auth/me", {"avatar": SimpleUploadedFile(name, data, "image/png")}, format="multipart"
    )


@pytest.mark.parametrize("kind", ["html", "svg-with-script", "mp4-header-then-html"])
@pytest.mark.parametrize("name", ["me.png", "me.svg", "me.html"])
def test_a_file_that_is_no_picture_is_refused_as_an_avatar(kind, name, client_for, viewer, before):
    response = patch_avatar(client_for(viewer), name, hostile_files()[kind])
    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert list(error["details"]) == ["avatar"]
    assert not User.objects.get(pk=viewer.pk).avatar
    assert stored_files() == before


@pytest.mark.parametrize("kind", POLYGLOT_PICTURES)
def test_a_polyglot_avatar_is_stored_as_a_fresh_jpeg_without_its_payload(kind, client_for, viewer):
    response = patch_avatar(client_for(viewer), "me.gif", hostile_files()[kind])
    assert response.status_code == 200, response.content[:300]
    viewer.refresh_from_db()
    with public_storage().open(viewer.avatar.name) as stored:
        data = stored.read()
    assert viewer.avatar.name.endswith(".jpg") and data.startswith(b"\xff\xd8")
    assert b"<script" not in data and b"<html" not in data.lower()
    assert not zipfile.is_zipfile(io.BytesIO(data))
