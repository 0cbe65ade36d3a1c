"""POST /api/auth/logout revokes the token used, and only that one."""

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import token_issue
from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_logging_out_stops_that_token_at_once(viewer):
    _, raw = token_issue(user=viewer)
    client = bearer(raw)
    response = client.post("/api/auth/logout")
    assert response.status_code == 200
    assert response.json() == {"message": "Logged out successfully"}
    assert_error_envelope(client.get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert_error_envelope(client.post("/api/auth/logout"), 401, "UNAUTHORIZED")


def test_victors_other_devices_stay_logged_in(viewer):
    _, phone = token_issue(user=viewer)
    _, laptop = token_issue(user=viewer)
    bearer(phone).post("/api/auth/logout/")
    assert bearer(laptop).get("/api/auth/me").status_code == 200
    assert AuthToken.objects.filter(user=viewer).count() == 1


def test_someone_elses_logout_does_not_touch_victors_token(viewer, stranger):
    _, victors = token_issue(user=viewer)
    _, bobs = token_issue(user=stranger)
    bearer(bobs).post("/api/auth/logout")
    assert bearer(victors).get("/api/auth/me").status_code == 200


def test_an_anonymous_logout_is_unauthorized(api_client):
    assert_error_envelope(api_client.post("/api/auth/logout"), 401, "UNAUTHORIZED")


def test_a_session_logout_ends_the_session(viewer):
    browser = APIClient()
    browser.force_login(viewer)
    assert browser.get("/api/auth/me").status_code == 200
    assert browser.post("/api/auth/logout").status_code == 200
    assert_error_envelope(browser.get("/api/auth/me"), 401, "UNAUTHORIZED")
