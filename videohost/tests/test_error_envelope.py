"""Every class of API error comes back in the contract's one envelope, with the right code."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from videohost.api.pagination import PageNumberPagination
from videohost.site_errors import server_error
from videohost.testing import assert_error_envelope as assert_error_envelope
from videohost.testing import sample_clip_bytes


def test_validation_error_lists_each_field(db):
    error = assert_error_envelope(
        APIClient().post("/api/auth/register", {}, format="json"), 400, "BAD_REQUEST"
    )
    assert {"username", "email", "password"} <= set(error["details"])


def test_malformed_json_is_a_bad_request(db):
    response = APIClient().post(
        "/api/auth/login", data="{not json", content_type="application/json"
    )
    assert_error_envelope(response, 400, "BAD_REQUEST")


def test_missing_credentials_are_unauthorized(db):
    assert_error_envelope(APIClient().get("/api/auth/me"), 401, "UNAUTHORIZED")


def test_invalid_bearer_token_is_unauthorized(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer " + "0" * 64)
    assert_error_envelope(client.get("/api/auth/me"), 401, "UNAUTHORIZED")


def test_editing_someone_elses_channel_is_forbidden(client_for, viewer, channel):
    response = client_for(viewer).patch(
        f"/api/channels/{channel.pk}", {"title": "Mine now"}, format="json"
    )
    assert_error_envelope(response, 403, "FORBIDDEN")


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/api/no-such-thing/", "/api/videos/x/y"])
def test_unknown_api_paths_are_not_found(db, path):
    assert_error_envelope(APIClient().get(path), 404, "NOT_FOUND")
    assert_error_envelope(APIClient().post(path, {}, format="json"), 404, "NOT_FOUND")


@pytest.mark.parametrize("method", ["post", "patch", "delete"])
def test_unsafe_method_on_an_unknown_api_path_is_not_found_rather_than_a_csrf_failure(db, method):
    # Found by the schema fuzzer: /api/subscriptions/abc fell through to the catch-all view,
    # where Django's CSRF check answered 403 before the 404 could be given.
    client = APIClient(enforce_csrf_checks=True)
    assert_error_envelope(getattr(client, method)("/api/subscriptions/abc"), 404, "NOT_FOUND")


def test_unknown_object_is_not_found(db):
    assert_error_envelope(APIClient().get("/api/videos/999999"), 404, "NOT_FOUND")


def test_wrong_method_is_method_not_allowed(db):
    assert_error_envelope(APIClient().delete("/api/auth/login"), 405, "METHOD_NOT_ALLOWED")


def test_taken_username_is_a_conflict(db, viewer, password):
    response = APIClient().post(
        "/api/auth/register",
        {"username": "VICTOR", "email": "other@example.com", "password": password},
        format="json",
    )
    assert_error_envelope(response, 409, "CONFLICT")


def test_oversize_upload_is_payload_too_large(client_for, author, settings):
    settings.MAX_UPLOAD_SIZE = 10_000
    upload = SimpleUploadedFile("clip.mp4", sample_clip_bytes(), "video/mp4")
    response = client_for(author).post(
        "/api/videos", {"file": upload, "title": "Too big"}, format="multipart"
    )
    assert_error_envelope(response, 413, "PAYLOAD_TOO_LARGE")


def test_html_posing_as_video_is_unsupported_media_type(client_for, author):
    upload = SimpleUploadedFile("clip.mp4", b"<html><script>alert(1)</script></html>", "video/mp4")
    response = client_for(author).post(
        "/api/videos", {"file": upload, "title": "Not a video"}, format="multipart"
    )
    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_svg_with_script_posing_as_video_is_unsupported_media_type(client_for, author):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    upload = SimpleUploadedFile("clip.mp4", svg, "video/mp4")
    response = client_for(author).post(
        "/api/videos", {"file": upload, "title": "Not a video"}, format="multipart"
    )
    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_unsupported_request_content_type_is_unsupported_media_type(db):
    response = APIClient().post("/api/auth/login", data="x", content_type="text/plain")
    assert_error_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")


def test_repeated_failed_logins_are_rate_limited_with_retry_after(viewer):
    client = APIClient()
    for _ in range(5):
        response = client.post(
            "/api/auth/login", {"username": "victor", "password": "wrong"}, format="json"
        )
        assert_error_envelope(response, 401, "UNAUTHORIZED")
    response = client.post(
        "/api/auth/login", {"username": "victor", "password": "wrong"}, format="json"
    )
    assert_error_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) > 0


def test_unexpected_exception_is_an_internal_error_without_traceback(db, monkeypatch):
    def explode(self, *args, **kwargs):
        raise RuntimeError("secret-internal-detail")

    monkeypatch.setattr(PageNumberPagination, "paginate_queryset", explode)
    client = APIClient(raise_request_exception=False)
    response = client.get("/api/videos")
    error = assert_error_envelope(response, 500, "INTERNAL_SERVER_ERROR")
    assert "secret-internal-detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert error["message"] == "An internal error occurred."


def test_django_level_server_error_under_api_uses_the_envelope(rf):
    response = server_error(rf.get("/api/videos"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "INTERNAL_SERVER_ERROR"


def test_site_pages_keep_html_error_pages(db, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
