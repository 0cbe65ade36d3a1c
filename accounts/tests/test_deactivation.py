"""Unticking "active" on the admin change form ends the user's tokens at once."""

import pytest
from django.urls import reverse
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_issue
from videohost.testing import UserFactory, assert_error_envelope

pytestmark = pytest.mark.django_db


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def change_form_data(user: User, **overrides) -> dict:
    data = {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "bio": user.bio,
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_knox_alone_already_refuses_an_inactive_users_token(viewer):
    token, raw = token_issue(user=viewer)
    User.objects.filter(pk=viewer.pk).update(is_active=False)  # no signal, no service
    with pytest.raises(AuthenticationFailed):
        TokenAuthentication().authenticate_credentials(raw.encode())
    assert_error_envelope(bearer(raw).get("/api/auth/me"), 401, "UNAUTHORIZED")


def test_a_moderator_deactivating_victor_in_the_change_form_ends_his_tokens(
    client, moderator, viewer
):
    _, raw = token_issue(user=viewer)
    client.force_login(moderator)
    url = reverse("admin:accounts_user_change", args=[viewer.pk])
    response = client.post(url, change_form_data(viewer, is_active=None))
    assert response.status_code == 302, response.content
    viewer.refresh_from_db()
    assert viewer.is_active is False
    assert not AuthToken.objects.filter(user=viewer).exists()
    assert_error_envelope(bearer(raw).get("/api/auth/me"), 401, "UNAUTHORIZED")


def test_reactivating_victor_does_not_revive_his_old_tokens(viewer):
    _, raw = token_issue(user=viewer)
    viewer.is_active = False
    viewer.save()
    viewer.is_active = True
    viewer.save()
    assert_error_envelope(bearer(raw).get("/api/auth/me"), 401, "UNAUTHORIZED")


def test_saving_an_active_user_keeps_their_tokens(client, moderator, viewer):
    _, raw = token_issue(user=viewer)
    client.force_login(moderator)
    url = reverse("admin:accounts_user_change", args=[viewer.pk])
    response = client.post(url, change_form_data(viewer, bio="Moderated bio"))
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert viewer.bio == "Moderated bio"
    assert bearer(raw).get("/api/auth/me").status_code == 200


def test_a_moderator_cannot_make_herself_or_victor_staff(client, moderator, viewer):
    client.force_login(moderator)
    url = reverse("admin:accounts_user_change", args=[viewer.pk])
    client.post(url, change_form_data(viewer, is_staff="on", is_superuser="on"))
    viewer.refresh_from_db()
    assert (viewer.is_staff, viewer.is_superuser) == (False, False)
    own = client.post(
        reverse("admin:accounts_user_change", args=[moderator.pk]),
        change_form_data(moderator, is_superuser="on"),
    )
    assert own.status_code == 403
    moderator.refresh_from_db()
    assert not moderator.is_superuser


def test_a_moderator_cannot_set_someone_elses_password(client, moderator, viewer, password):
    client.force_login(moderator)
    url = reverse("admin:auth_user_password_change", args=[viewer.pk])
    response = client.post(url, {"password1": "pwned-pwned-123", "password2": "pwned-pwned-123"})
    assert response.status_code == 403
    viewer.refresh_from_db()
    assert viewer.check_password(password)


def test_a_superuser_deactivates_a_staff_member(client, moderator):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    _, raw = token_issue(user=moderator)
    client.force_login(root)
    url = reverse("admin:accounts_user_change", args=[moderator.pk])
    data = change_form_data(moderator, is_active=None, is_staff="on")
    response = client.post(url, data)
    assert response.status_code == 302, response.content
    moderator.refresh_from_db()
    assert moderator.is_active is False
    assert_error_envelope(bearer(raw).get("/api/auth/me"), 401, "UNAUTHORIZED")
