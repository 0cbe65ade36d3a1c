"""Security headers on a sample of every kind of response: pages, error pages, API answers and
API errors, media bytes (public and access-checked), static files, and behind nginx.

Documents get the site's Content-Security-Policy (no inline script, no framing, no plugins);
media bytes get a sandbox policy instead (never a page of this origin, whatever is in them).
All get `X-Content-Type-Options: nosniff`, `Referrer-Policy: same-origin` and
`X-Frame-Options: DENY` (static files, served by whitenoise before the CSP and framing
middleware, are scripts and styles, not documents: nosniff and the referrer policy).
"""

import io

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from PIL import Image

from videohost.media import MEDIA_CONTENT_SECURITY_POLICY
from videohost.storage import public_storage
from videohost.testing import VideoFactory
from videos import views as video_views
from videos.tests.test_nginx_delivery import fetch, nginx, nginx_delivery  # noqa: F401

pytestmark = pytest.mark.django_db

SITE_POLICY = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "frame-ancestors 'none'",
)


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, title="Headers")


@pytest.fixture
def avatar_path(db) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    return public_storage().save("avatars/headers.jpg", ContentFile(buffer.getvalue()))


def assert_common_headers(response, where: str) -> None:
    assert response["X-Content-Type-Options"] == "nosniff", where
    assert response["Referrer-Policy"] == "same-origin", where


def assert_document_headers(response, where: str) -> None:
    assert_common_headers(response, where)
    assert response["X-Frame-Options"] == "DENY", where
    policy = response["Content-Security-Policy"]
    assert all(part in policy for part in SITE_POLICY), (where, policy)
    assert "unsafe-eval" not in policy and "'unsafe-inline'" not in policy.split("style-src")[0]


def assert_media_headers(response, where: str) -> None:
    assert_common_headers(response, where)
    assert response["X-Frame-Options"] == "DENY", where
    assert response["Content-Security-Policy"] == MEDIA_CONTENT_SECURITY_POLICY, where


PAGES = [
    ("/", 200),
    ("/videos/{video}", 200),
    ("/channels/{channel}", 200),
    ("/accounts/login", 200),
    ("/accounts/register", 200),
    ("/rooms", 200),
    ("/studio", 302),
    ("/no-such-page", 404),
    ("/videos/999999", 404),
    ("/admin/login/", 200),
    ("/healthz", 200),
]
API = [
    ("get", "/api/videos", 200),
    ("get", "/api/videos/{video}", 200),
    ("get", "/api/channels/{channel}", 200),
    ("get", "/api/videos/999999", 404),
    ("get", "/api/no-such-endpoint", 404),
    ("post", "/api/no-such-endpoint", 404),
    ("get", "/api/auth/me", 401),
    ("post", "/api/auth/login", 400),
    ("put", "/api/auth/login", 405),
    ("get", "/api/schema", 200),
    ("get", "/api/docs", 200),
]


@pytest.mark.parametrize(("path", "status"), PAGES)
def test_pages_and_error_pages_carry_the_site_policy_and_framing_refusal(
    client, video, channel, path, status
):
    where = path.format(video=video.pk, channel=channel.pk)
    response = client.get(where)
    assert response.status_code == status, where
    assert_document_headers(response, where)


@pytest.mark.parametrize(("method", "path", "status"), API)
def test_api_answers_and_api_errors_carry_the_same_headers(
    client, video, channel, method, path, status
):
    where = path.format(video=video.pk, channel=channel.pk)
    response = getattr(client, method)(where)
    assert response.status_code == status, where
    assert_document_headers(response, where)


def test_a_csrf_failure_page_carries_the_headers(db):
    response = Client(enforce_csrf_checks=True).post(
        "/accounts/login", {"username": "x", "password": "y"}
    )
    assert response.status_code == 403
    assert_document_headers(response, "csrf failure")


@pytest.mark.parametrize("path", ["/", "/api/videos"])
def test_a_server_error_page_carries_the_headers(db, monkeypatch, path):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    # What both views read first: the home page and the API list fail alike.
    monkeypatch.setattr(video_views, "listed_videos", broken)
    monkeypatch.setattr("videos.api_views.listed_videos", broken)
    response = Client(raise_request_exception=False).get(path)
    assert response.status_code == 500
    assert b"boom" not in response.content
    assert_document_headers(response, path)


def test_stored_media_carry_the_sandbox_policy(client, video, avatar_path):
    for path, status in [
        (f"/media/{avatar_path}", 200),
        ("/media/avatars/missing.jpg", 404),
        (f"/api/videos/{video.pk}/stream", 200),
    ]:
        response = client.get(path)
        assert response.status_code == status, path
        if status == 200:
            assert_media_headers(response, path)
        else:
            assert_document_headers(response, path)
    ranged = client.get(f"/api/videos/{video.pk}/stream", HTTP_RANGE="bytes=0-99")
    assert ranged.status_code == 206
    assert_media_headers(ranged, "ranged stream")


def test_static_files_are_not_sniffed(client):
    response = client.get("/static/js/api.js")
    assert response.status_code == 200
    assert_common_headers(response, "static")


def test_hsts_is_sent_over_https_when_configured(client, settings):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    response = client.get("/healthz", secure=True)
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


@pytest.mark.django_db(transaction=True)
def test_behind_nginx_media_keep_the_sandbox_policy_and_nosniff(nginx, video, avatar_path):  # noqa: F811
    for path in (f"/media/{avatar_path}", f"/api/videos/{video.pk}/stream"):
        status, headers, _ = fetch(f"{nginx}{path}")
        assert status == 200, path
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Content-Security-Policy"] == MEDIA_CONTENT_SECURITY_POLICY, path
    status, headers, _ = fetch(f"{nginx}/")
    assert status == 200
    assert "script-src 'self'" in headers["Content-Security-Policy"]
