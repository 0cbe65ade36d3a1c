"""/accounts/register: a new account, signed in, sent on to the studio (or `next`)."""

import pytest

from accounts.models import User

pytestmark = pytest.mark.django_db

GOOD_PASSWORD = "violet-harbour-lantern-77"


def form(**overrides) -> dict:
    data = {
        "username": "nora",
        "email": "nora@example.com",
        "password1": GOOD_PASSWORD,
        "password2": GOOD_PASSWORD,
    }
    data.update(overrides)
    return data


def test_the_page_has_the_fields_the_browser_tests_fill_in(client):
    response = client.get("/accounts/register")
    assert response.status_code == 200
    html = response.content.decode()
    for field_id in ("id_username", "id_email", "id_password1", "id_password2"):
        assert f'id="{field_id}"' in html
    assert "csrfmiddlewaretoken" in html
    assert client.get("/accounts/register/").status_code == 200


def test_nora_registers_is_signed_in_and_lands_in_the_studio(client):
    response = client.post("/accounts/register", form())
    assert response.status_code == 302
    assert response["Location"] == "/studio"
    user = User.objects.get(username="nora")
    assert int(client.session["_auth_user_id"]) == user.pk
    me = client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["username"] == "nora"


def test_registering_honours_a_safe_next(client):
    response = client.post("/accounts/register?next=/rooms", form())
    assert response["Location"] == "/rooms"


def test_registering_ignores_a_next_to_another_site(client):
    response = client.post("/accounts/register", form(next="https://evil.example/"))
    assert response["Location"] == "/studio"


def test_mismatched_passwords_are_shown_next_to_the_second_field(client):
    response = client.post("/accounts/register", form(password2="something-else-99"))
    assert response.status_code == 400
    assert response.context["form"].errors["password2"] == ["The two passwords do not match."]
    assert not User.objects.exists()


def test_a_weak_password_is_shown_next_to_the_password_field(client):
    response = client.post("/accounts/register", form(password1="abc", password2="abc"))
    assert response.status_code == 400
    assert "password1" in response.context["form"].errors
    assert 'class="errorlist' in response.content.decode()


def test_a_taken_username_is_shown_next_to_the_username_field(client, viewer):
    response = client.post("/accounts/register", form(username="Victor"))
    assert response.status_code == 400
    assert response.context["form"].errors["username"] == [
        "A user with that username already exists."
    ]
    assert "_auth_user_id" not in client.session


def test_the_typed_username_is_escaped_when_shown_again(client):
    response = client.post("/accounts/register", form(username='<script>x</script>"'))
    assert response.status_code == 400
    assert "<script>x</script>" not in response.content.decode()


def test_a_bad_username_is_shown_even_when_the_passwords_differ(client):
    response = client.post(
        "/accounts/register", form(username="bad name", password2="something-else-99")
    )
    errors = response.context["form"].errors
    assert set(errors) == {"username", "password2"}
