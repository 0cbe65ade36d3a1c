"""POST /api/auth/register: 201 private user, 400 with per-field details, 409 when taken."""

import pytest

from accounts.models import User
from accounts.services import user_register
from videohost.errors import Conflict
from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "violet-harbour-lantern-77"


def register(client, **overrides):
    body = {"username": "nora", "email": "nora@example.com", "password": GOOD_PASSWORD}
    body.update(overrides)
    return client.post("/api/auth/register", body, format="json")


def test_a_newcomer_registers_and_gets_her_private_profile_back(api_client):
    response = register(api_client)
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {
        "id",
        "username",
        "email",
        "display_name",
        "bio",
        "avatar_url",
        "is_author",
        "created_at",
    }
    assert body["username"] == "nora"
    assert body["email"] == "nora@example.com"
    assert body["avatar_url"] is None
    assert body["is_author"] is False
    user = User.objects.get(pk=body["id"])
    assert user.check_password(GOOD_PASSWORD)
    assert user.password != GOOD_PASSWORD


def test_registering_works_with_a_trailing_slash_too(api_client):
    response = api_client.post(
        "/api/auth/register/",
        {"username": "nora", "email": "nora@example.com", "password": GOOD_PASSWORD},
        format="json",
    )
    assert response.status_code == 201


def test_registration_needs_no_csrf_token_even_for_a_browser_with_a_session(client, viewer):
    from rest_framework.test import APIClient

    browser = APIClient(enforce_csrf_checks=True)
    browser.force_login(viewer)
    response = register(browser)
    assert response.status_code == 201


def test_missing_fields_are_reported_per_field(api_client):
    error = assert_error_envelope(
        api_client.post("/api/auth/register", {}, format="json"), 400, "BAD_REQUEST"
    )
    assert set(error["details"]) == {"username", "email", "password"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "no spaces allowed"),
        ("username", "semi;colon"),
        ("username", "x" * 151),
        ("email", "not-an-email"),
        ("password", "short1"),
        ("password", "password123"),
        ("password", "12345678901"),
    ],
)
def test_invalid_values_are_refused_with_details_for_that_field(api_client, field, value):
    error = assert_error_envelope(register(api_client, **{field: value}), 400, "BAD_REQUEST")
    assert list(error["details"]) == [field]
    assert error["details"][field]
    assert not User.objects.exists()


def test_a_password_too_like_the_username_is_refused(api_client):
    error = assert_error_envelope(
        register(api_client, username="marmaladesky", password="marmaladesky1"), 400, "BAD_REQUEST"
    )
    assert "too similar" in error["details"]["password"][0]


def test_a_taken_username_conflicts_whatever_its_case(api_client, viewer):
    error = assert_error_envelope(register(api_client, username="VICTOR"), 409, "CONFLICT")
    assert list(error["details"]) == ["username"]
    assert User.objects.filter(username__iexact="victor").count() == 1


def test_a_taken_email_conflicts_whatever_its_case(api_client, viewer):
    error = assert_error_envelope(register(api_client, email="Victor@EXAMPLE.com"), 409, "CONFLICT")
    assert list(error["details"]) == ["email"]


def test_both_taken_fields_are_named(api_client, viewer):
    error = assert_error_envelope(
        register(api_client, username="Victor", email="victor@example.com"), 409, "CONFLICT"
    )
    assert set(error["details"]) == {"username", "email"}


def test_a_registration_racing_past_the_check_still_gets_a_conflict(db, monkeypatch):
    """The unique constraints on Lower(username) catch what the existence check missed."""
    from accounts import services

    user_register(username="nora", email="nora@example.com", password=GOOD_PASSWORD)
    # The first check sees nothing, as if the other registration had not committed yet.
    calls = []
    original = services._taken_fields

    def stale_then_real(**kwargs):
        calls.append(kwargs)
        return {} if len(calls) == 1 else original(**kwargs)

    monkeypatch.setattr(services, "_taken_fields", stale_then_real)
    with pytest.raises(Conflict) as raised:
        user_register(username="NORA", email="other@example.com", password=GOOD_PASSWORD)
    assert raised.value.details == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1
