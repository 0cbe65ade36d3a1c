"""POST /api/auth/login: a 24-hour Bearer token for the right password, 401 otherwise."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

from videohost.testing import UserFactory, assert_error_envelope

pytestmark = pytest.mark.django_db


def test_victor_logs_in_and_gets_a_day_long_bearer_token(api_login, viewer, password):
    response = api_login("victor", password)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"token", "expires_at", "user"}
    assert len(body["token"]) == 64
    int(body["token"], 16)  # hex: 256 bits of randomness
    expires_at = parse_datetime(body["expires_at"])
    expected = timezone.now() + timedelta(hours=24)
    assert abs((expires_at - expected).total_seconds()) < 60
    assert body["user"]["username"] == "victor"
    assert body["user"]["email"] == "victor@example.com"

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["id"] == viewer.pk


def test_only_a_hash_of_the_token_is_stored(api_login, viewer, password):
    token = api_login("victor", password).json()["token"]
    stored = AuthToken.objects.get(user=viewer)
    assert token not in (stored.digest, stored.token_key)
    assert stored.token_key == token[: len(stored.token_key)]
    assert len(stored.token_key) < len(token)


def test_the_username_is_matched_whatever_its_case(api_login, viewer, password):
    assert api_login("VICTOR", password).status_code == 200


def test_a_successful_login_records_the_time(api_login, viewer, password):
    api_login("victor", password)
    viewer.refresh_from_db()
    assert viewer.last_login is not None
    assert (timezone.now() - viewer.last_login).total_seconds() < 60


def test_each_login_is_a_separate_token(api_login, viewer, password):
    first = api_login("victor", password).json()["token"]
    second = api_login("victor", password).json()["token"]
    assert first != second
    assert AuthToken.objects.filter(user=viewer).count() == 2


def test_a_wrong_password_gets_the_contract_message(api_login, viewer):
    error = assert_error_envelope(api_login("victor", "not-his-password"), 401, "UNAUTHORIZED")
    assert error["message"] == "Invalid username or password"
    assert not AuthToken.objects.exists()


def test_an_unknown_username_gets_the_same_message(api_login, viewer, password):
    error = assert_error_envelope(api_login("nobody", password), 401, "UNAUTHORIZED")
    assert error["message"] == "Invalid username or password"


def test_an_inactive_user_cannot_log_in_even_with_the_right_password(api_login, password):
    UserFactory(username="gone", is_active=False)
    error = assert_error_envelope(api_login("gone", password), 401, "UNAUTHORIZED")
    assert error["message"] == "Invalid username or password"
    assert not AuthToken.objects.exists()


def test_missing_credentials_are_a_validation_error(api_client):
    error = assert_error_envelope(
        api_client.post("/api/auth/login", {}, format="json"), 400, "BAD_REQUEST"
    )
    assert set(error["details"]) == {"username", "password"}


def test_a_browser_can_log_in_by_api_without_a_csrf_token(viewer, password):
    browser = APIClient(enforce_csrf_checks=True)
    response = browser.post(
        "/api/auth/login", {"username": "victor", "password": password}, format="json"
    )
    assert response.status_code == 200


def test_login_answers_get_with_method_not_allowed(api_client):
    assert_error_envelope(api_client.get("/api/auth/login"), 405, "METHOD_NOT_ALLOWED")
