"""/accounts/logout: POST only, then home."""

import pytest

pytestmark = pytest.mark.django_db


def test_signing_out_ends_the_session_and_goes_home(client, viewer):
    client.force_login(viewer)
    response = client.post("/accounts/logout")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in client.session


def test_a_get_does_not_sign_out(client, viewer):
    client.force_login(viewer)
    assert client.get("/accounts/logout").status_code == 405
    assert int(client.session["_auth_user_id"]) == viewer.pk


def test_signing_out_needs_the_csrf_token(viewer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(viewer)
    assert browser.post("/accounts/logout").status_code == 403
    assert int(browser.session["_auth_user_id"]) == viewer.pk
