"""/accounts/login: session sign-in through the same throttle as the API."""

import pytest

pytestmark = pytest.mark.django_db


def test_the_page_has_username_and_password_fields(client):
    html = client.get("/accounts/login").content.decode()
    assert 'id="id_username"' in html
    assert 'id="id_password"' in html


def test_victor_signs_in_and_goes_home(client, viewer, password):
    response = client.post("/accounts/login", {"username": "victor", "password": password})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert int(client.session["_auth_user_id"]) == viewer.pk


def test_signing_in_goes_on_to_a_safe_next(client, viewer, password):
    response = client.post(
        "/accounts/login?next=/accounts/profile", {"username": "victor", "password": password}
    )
    assert response["Location"] == "/accounts/profile"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:x"])
def test_signing_in_never_redirects_off_site(client, viewer, password, target):
    response = client.post(
        "/accounts/login", {"username": "victor", "password": password, "next": target}
    )
    assert response["Location"] == "/"


def test_the_next_field_is_carried_in_the_form(client):
    html = client.get("/accounts/login?next=/rooms").content.decode()
    assert 'name="next" value="/rooms"' in html


def test_a_wrong_password_shows_the_message_and_does_not_sign_in(client, viewer):
    response = client.post("/accounts/login", {"username": "victor", "password": "nope"})
    assert response.status_code == 400
    assert "Invalid username or password" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_page_shows_the_lockout_with_the_wait(client, viewer, password):
    for _ in range(5):
        client.post("/accounts/login", {"username": "victor", "password": "nope"})
    response = client.post("/accounts/login", {"username": "victor", "password": password})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert "Try again in 5 minutes." in html
    assert "_auth_user_id" not in client.session


def test_the_page_and_the_api_share_one_throttle(client, api_login, viewer, password):
    for _ in range(5):
        client.post("/accounts/login", {"username": "victor", "password": "nope"})
    assert api_login("victor", password, ip="203.0.113.1").status_code == 429


def test_an_inactive_user_cannot_sign_in_on_the_page(client, viewer, password):
    viewer.is_active = False
    viewer.save()
    response = client.post("/accounts/login", {"username": "victor", "password": password})
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_signing_in_changes_the_session_key(client, viewer, password):
    client.get("/accounts/login")
    client.session.save()
    before = client.session.session_key
    client.post("/accounts/login", {"username": "victor", "password": password})
    assert client.session.session_key != before
