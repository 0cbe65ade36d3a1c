"""Banning a user ends their tokens and sessions at once, from the admin or the service."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import token_issue, user_ban
from videohost.errors import NotAllowed
from videohost.testing import UserFactory, assert_error_envelope

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_banned_users_tokens_stop_working(viewer, moderator):
    _, raw = token_issue(user=viewer)
    client = bearer(raw)
    assert client.get("/api/auth/me").status_code == 200
    user_ban(user=viewer, by=moderator)
    assert_error_envelope(client.get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert not AuthToken.objects.filter(user=viewer).exists()
    viewer.refresh_from_db()
    assert viewer.is_active is False


def test_a_banned_users_session_stops_working_for_the_api_and_the_pages(viewer, moderator):
    browser = APIClient()
    browser.force_login(viewer)
    assert browser.get("/api/auth/me").status_code == 200
    assert browser.get("/accounts/profile").status_code == 200
    user_ban(user=viewer, by=moderator)
    assert_error_envelope(browser.get("/api/auth/me"), 401, "UNAUTHORIZED")
    page = browser.get("/accounts/profile")
    assert page.status_code == 302
    assert page["Location"].startswith("/accounts/login")


def test_a_banned_user_cannot_log_in_again(viewer, moderator, api_login, password):
    user_ban(user=viewer, by=moderator)
    assert_error_envelope(api_login("victor", password), 401, "UNAUTHORIZED")


def test_a_moderator_bans_users_with_the_admin_action(client, moderator, viewer, subscriber):
    _, victors = token_issue(user=viewer)
    _, sams = token_issue(user=subscriber)
    bystander = UserFactory(username="bystander")
    _, bystanders = token_issue(user=bystander)
    client.force_login(moderator)
    response = client.post(
        CHANGELIST,
        {
            "action": "ban_selected_users",
            helpers.ACTION_CHECKBOX_NAME: [viewer.pk, subscriber.pk],
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Banned 2 users." in [str(message) for message in response.context["messages"]]
    for token in (victors, sams):
        assert_error_envelope(bearer(token).get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert bearer(bystanders).get("/api/auth/me").status_code == 200
    viewer.refresh_from_db()
    bystander.refresh_from_db()
    assert (viewer.is_active, bystander.is_active) == (False, True)


def test_a_moderator_cannot_ban_herself_or_other_staff(client, moderator):
    colleague = UserFactory(username="otto", is_staff=True)
    client.force_login(moderator)
    response = client.post(
        CHANGELIST,
        {
            "action": "ban_selected_users",
            helpers.ACTION_CHECKBOX_NAME: [moderator.pk, colleague.pk],
        },
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert any("cannot ban yourself" in message for message in messages)
    assert any("Only a superuser can ban staff" in message for message in messages)
    moderator.refresh_from_db()
    colleague.refresh_from_db()
    assert moderator.is_active and colleague.is_active


def test_people_who_are_not_staff_cannot_ban(viewer, stranger):
    with pytest.raises(NotAllowed):
        user_ban(user=viewer, by=stranger)
    viewer.refresh_from_db()
    assert viewer.is_active


def test_a_non_staff_user_cannot_reach_the_ban_action(client, viewer, stranger):
    client.force_login(stranger)
    response = client.post(
        CHANGELIST, {"action": "ban_selected_users", helpers.ACTION_CHECKBOX_NAME: [viewer.pk]}
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    viewer.refresh_from_db()
    assert viewer.is_active
