"""/accounts/profile: edit the display name, bio and avatar; change the password."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import token_issue
from accounts.tests.conftest import image_bytes

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "quiet-meadow-compass-19"


@pytest.fixture
def signed_in(client, viewer):
    client.force_login(viewer)
    return client


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/accounts/profile")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login?next=/accounts/profile"


def test_victor_sees_his_profile_form(signed_in):
    response = signed_in.get("/accounts/profile")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="Victor"' in html
    assert 'enctype="multipart/form-data"' in html
    assert "js/profile.js" in html
    assert "<script>" not in html


def test_victor_edits_his_name_bio_and_avatar(signed_in, viewer):
    response = signed_in.post(
        "/accounts/profile",
        {
            "form": "profile",
            "display_name": "Victor V.",
            "bio": "I <3 films",
            "avatar": SimpleUploadedFile("me.png", image_bytes(), content_type="image/png"),
        },
        follow=True,
    )
    assert response.status_code == 200
    assert "Your profile was saved." in response.content.decode()
    viewer.refresh_from_db()
    assert (viewer.display_name, viewer.bio) == ("Victor V.", "I <3 films")
    assert viewer.avatar_url.endswith(".jpg")
    html = response.content.decode()
    assert f'src="{viewer.avatar_url}"' in html
    assert "I &lt;3 films" in html


def test_a_fake_image_is_shown_as_an_error_next_to_the_avatar_field(signed_in, viewer):
    response = signed_in.post(
        "/accounts/profile",
        {
            "form": "profile",
            "display_name": "Changed",
            "bio": "",
            "avatar": SimpleUploadedFile("x.png", b"<html>", content_type="image/png"),
        },
    )
    assert response.status_code == 400
    assert "avatar" in response.context["profile_form"].errors
    viewer.refresh_from_db()
    assert viewer.display_name == "Victor"
    assert not viewer.avatar


def test_victor_removes_his_avatar(signed_in, viewer):
    signed_in.post(
        "/accounts/profile",
        {
            "form": "profile",
            "display_name": "Victor",
            "avatar": SimpleUploadedFile("me.png", image_bytes(), content_type="image/png"),
        },
    )
    signed_in.post(
        "/accounts/profile", {"form": "profile", "display_name": "Victor", "remove_avatar": "on"}
    )
    viewer.refresh_from_db()
    assert not viewer.avatar


def test_changing_the_password_keeps_this_browser_signed_in_and_ends_tokens(
    signed_in, viewer, password, client_for
):
    _, raw = token_issue(user=viewer)
    response = signed_in.post(
        "/accounts/profile",
        {
            "form": "password",
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        follow=True,
    )
    assert "Your password was changed." in response.content.decode()
    assert signed_in.get("/accounts/profile").status_code == 200
    viewer.refresh_from_db()
    assert viewer.check_password(NEW_PASSWORD)
    from rest_framework.test import APIClient

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.get("/api/auth/me").status_code == 401


def test_a_wrong_current_password_is_shown_next_to_that_field(signed_in, viewer, password):
    response = signed_in.post(
        "/accounts/profile",
        {
            "form": "password",
            "old_password": "wrong",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert "old_password" in response.context["password_form"].errors
    viewer.refresh_from_db()
    assert viewer.check_password(password)


def test_mismatched_new_passwords_are_refused(signed_in, viewer, password):
    response = signed_in.post(
        "/accounts/profile",
        {
            "form": "password",
            "old_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD + "x",
        },
    )
    assert response.status_code == 400
    assert "new_password2" in response.context["password_form"].errors


def test_the_profile_form_needs_the_csrf_token(viewer):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(viewer)
    response = browser.post("/accounts/profile", {"form": "profile", "display_name": "X"})
    assert response.status_code == 403
    viewer.refresh_from_db()
    assert viewer.display_name == "Victor"
