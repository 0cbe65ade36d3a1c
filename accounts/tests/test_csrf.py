"""Session-authenticated writes need the CSRF token; Bearer-authenticated ones do not."""

import pytest
from django.middleware.csrf import get_token
from django.test import RequestFactory
from rest_framework.test import APIClient

from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(viewer):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(viewer)
    return client


def csrf_token_for(client) -> str:
    """Fetch a page that sets the CSRF cookie, as a browser would."""
    response = client.get("/accounts/profile")
    assert response.status_code == 200
    return response.cookies["csrftoken"].value


def test_a_session_patch_without_the_csrf_token_is_forbidden(browser, viewer):
    error = assert_error_envelope(
        browser.patch("/api/auth/me", {"display_name": "Hijacked"}, format="json"), 403, "FORBIDDEN"
    )
    assert "CSRF" in error["message"]
    viewer.refresh_from_db()
    assert viewer.display_name == "Victor"


def test_a_session_patch_with_the_csrf_token_goes_through(browser, viewer):
    token = csrf_token_for(browser)
    response = browser.patch(
        "/api/auth/me", {"display_name": "Vic"}, format="json", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Vic"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/auth/logout", {}),
        ("/api/auth/password", {"old_password": "x", "new_password": "y"}),
    ],
)
def test_other_session_writes_also_need_the_csrf_token(browser, path, body):
    assert_error_envelope(browser.post(path, body, format="json"), 403, "FORBIDDEN")


def test_bearer_writes_need_no_csrf_token(viewer, client_for):
    client = client_for(viewer)
    client.handler.enforce_csrf_checks = True
    response = client.patch("/api/auth/me", {"display_name": "Vic"}, format="json")
    assert response.status_code == 200


def test_a_csrf_token_from_another_session_is_refused(browser, stranger):
    request = RequestFactory().get("/")
    foreign = get_token(request)
    response = browser.patch(
        "/api/auth/me", {"display_name": "X"}, format="json", HTTP_X_CSRFTOKEN=foreign
    )
    assert_error_envelope(response, 403, "FORBIDDEN")
