"""POST /api/auth/password: the new password, and every other token revoked."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import token_issue
from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-meadow-compass-19"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_changing_the_password_revokes_every_other_token_but_keeps_this_one(
    viewer, stranger, password
):
    current, raw_current = token_issue(user=viewer)
    _, raw_phone = token_issue(user=viewer)
    _, raw_bob = token_issue(user=stranger)
    response = bearer(raw_current).post(
        "/api/auth/password",
        {"old_password": password, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    assert "message" in response.json()
    assert bearer(raw_current).get("/api/auth/me").status_code == 200
    assert_error_envelope(bearer(raw_phone).get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert bearer(raw_bob).get("/api/auth/me").status_code == 200
    assert list(AuthToken.objects.filter(user=viewer)) == [current]
    viewer.refresh_from_db()
    assert viewer.check_password(NEW_PASSWORD)


def test_the_new_password_works_for_login_and_the_old_one_does_not(api_login, viewer, password):
    _, raw = token_issue(user=viewer)
    bearer(raw).post(
        "/api/auth/password",
        {"old_password": password, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert api_login("victor", NEW_PASSWORD).status_code == 200
    assert_error_envelope(api_login("victor", password), 401, "UNAUTHORIZED")


def test_a_wrong_old_password_is_a_400_on_that_field(viewer):
    _, raw = token_issue(user=viewer)
    _, other = token_issue(user=viewer)
    error = assert_error_envelope(
        bearer(raw).post(
            "/api/auth/password",
            {"old_password": "guess", "new_password": NEW_PASSWORD},
            format="json",
        ),
        400,
        "BAD_REQUEST",
    )
    assert list(error["details"]) == ["old_password"]
    assert bearer(other).get("/api/auth/me").status_code == 200
    viewer.refresh_from_db()
    assert not viewer.check_password(NEW_PASSWORD)


def test_a_weak_new_password_is_a_400_on_that_field(viewer, password):
    _, raw = token_issue(user=viewer)
    error = assert_error_envelope(
        bearer(raw).post(
            "/api/auth/password", {"old_password": password, "new_password": "123"}, format="json"
        ),
        400,
        "BAD_REQUEST",
    )
    assert list(error["details"]) == ["new_password"]


def test_missing_fields_are_reported(viewer):
    _, raw = token_issue(user=viewer)
    error = assert_error_envelope(
        bearer(raw).post("/api/auth/password", {}, format="json"), 400, "BAD_REQUEST"
    )
    assert set(error["details"]) == {"old_password", "new_password"}


def test_anonymous_callers_cannot_change_a_password(api_client, password):
    assert_error_envelope(
        api_client.post(
            "/api/auth/password",
            {"old_password": password, "new_password": NEW_PASSWORD},
            format="json",
        ),
        401,
        "UNAUTHORIZED",
    )


def test_a_session_caller_stays_signed_in_after_changing_the_password(viewer, password):
    browser = APIClient()
    browser.force_login(viewer)
    other_browser = APIClient()
    other_browser.force_login(viewer)
    response = browser.post(
        "/api/auth/password",
        {"old_password": password, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 200
    assert browser.get("/api/auth/me").status_code == 200
    assert_error_envelope(other_browser.get("/api/auth/me"), 401, "UNAUTHORIZED")
