"""GET/PATCH /api/auth/me: the private profile, edited by JSON or multipart with an avatar."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.services import user_update_profile
from accounts.tests.conftest import image_bytes
from videohost.storage import public_storage
from videohost.testing import assert_error_envelope

pytestmark = pytest.mark.django_db


def upload(name: str, data: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


def test_victor_sees_his_private_profile(viewer, client_for):
    response = client_for(viewer).get("/api/auth/me")
    assert response.status_code == 200
    assert response.json() == {
        "id": viewer.pk,
        "username": "victor",
        "email": "victor@example.com",
        "display_name": "Victor",
        "bio": "",
        "avatar_url": None,
        "is_author": False,
        "created_at": response.json()["created_at"],
    }


def test_alice_is_shown_as_an_author(author, client_for):
    assert client_for(author).get("/api/auth/me").json()["is_author"] is True


def test_anonymous_callers_get_401(api_client):
    assert_error_envelope(api_client.get("/api/auth/me"), 401, "UNAUTHORIZED")
    assert_error_envelope(
        api_client.patch("/api/auth/me", {"bio": "x"}, format="json"), 401, "UNAUTHORIZED"
    )


def test_victor_edits_his_display_name_and_bio_with_json(viewer, client_for):
    response = client_for(viewer).patch(
        "/api/auth/me/",
        {"display_name": "  Victor V. ", "bio": "Films & <b>tea</b>"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["display_name"] == "Victor V."
    assert response.json()["bio"] == "Films & <b>tea</b>"
    viewer.refresh_from_db()
    assert viewer.bio == "Films & <b>tea</b>"


def test_a_patch_only_changes_the_fields_sent(viewer, client_for):
    client_for(viewer).patch("/api/auth/me", {"bio": "Hello"}, format="json")
    viewer.refresh_from_db()
    assert (viewer.display_name, viewer.bio) == ("Victor", "Hello")


def test_username_email_and_author_flag_cannot_be_changed_here(viewer, client_for):
    client_for(viewer).patch(
        "/api/auth/me",
        {"username": "root", "email": "root@example.com", "is_author": True},
        format="json",
    )
    viewer.refresh_from_db()
    assert (viewer.username, viewer.email, viewer.is_author) == (
        "victor",
        "victor@example.com",
        False,
    )


def test_a_too_long_display_name_is_refused(viewer, client_for):
    error = assert_error_envelope(
        client_for(viewer).patch("/api/auth/me", {"display_name": "x" * 81}, format="json"),
        400,
        "BAD_REQUEST",
    )
    assert list(error["details"]) == ["display_name"]


def test_a_real_png_avatar_is_accepted_and_re_encoded_as_a_square_jpeg(viewer, client_for):
    original = image_bytes(size=(600, 400), fmt="PNG")
    response = client_for(viewer).patch(
        "/api/auth/me", {"avatar": upload("me.png", original)}, format="multipart"
    )
    assert response.status_code == 200
    url = response.json()["avatar_url"]
    assert url.startswith(f"/media/avatars/{viewer.pk}/")
    assert url.endswith(".jpg")
    assert "me.png" not in url
    viewer.refresh_from_db()
    with public_storage().open(viewer.avatar.name) as stored:
        data = stored.read()
    assert data != original
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "JPEG"
        assert image.size == (256, 256)


def test_the_avatar_is_served_from_its_public_url(viewer, client_for, client):
    response = client_for(viewer).patch(
        "/api/auth/me", {"avatar": upload("me.png", image_bytes())}, format="multipart"
    )
    served = client.get(response.json()["avatar_url"])
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"


def test_a_small_avatar_is_not_blown_up(viewer):
    user_update_profile(user=viewer, avatar=upload("tiny.gif", image_bytes((40, 60), fmt="GIF")))
    with Image.open(viewer.avatar.open()) as image:
        assert image.size == (40, 40)


def test_a_transparent_png_keeps_working(viewer):
    data = image_bytes((100, 100), color=(0, 0, 0, 0), mode="RGBA")
    user_update_profile(user=viewer, avatar=upload("clear.png", data))
    assert viewer.avatar_url.endswith(".jpg")


def test_html_named_png_is_refused(viewer, client_for):
    html = b"<!doctype html><script>alert(document.cookie)</script>"
    error = assert_error_envelope(
        client_for(viewer).patch(
            "/api/auth/me", {"avatar": upload("evil.png", html)}, format="multipart"
        ),
        400,
        "BAD_REQUEST",
    )
    assert list(error["details"]) == ["avatar"]
    viewer.refresh_from_db()
    assert not viewer.avatar


def test_a_truncated_image_is_refused(viewer, client_for):
    data = image_bytes((300, 300), fmt="PNG")[:200]
    assert_error_envelope(
        client_for(viewer).patch(
            "/api/auth/me", {"avatar": upload("cut.png", data)}, format="multipart"
        ),
        400,
        "BAD_REQUEST",
    )


def test_an_avatar_over_the_size_limit_is_refused(viewer, client_for, settings):
    data = image_bytes((300, 300))
    settings.MAX_AVATAR_SIZE = len(data) - 1
    error = assert_error_envelope(
        client_for(viewer).patch(
            "/api/auth/me", {"avatar": upload("big.png", data)}, format="multipart"
        ),
        400,
        "BAD_REQUEST",
    )
    assert "avatar" in error["details"]
    viewer.refresh_from_db()
    assert not viewer.avatar


def test_a_new_avatar_replaces_the_old_file(viewer, client_for):
    client = client_for(viewer)
    client.patch("/api/auth/me", {"avatar": upload("a.png", image_bytes())}, format="multipart")
    viewer.refresh_from_db()
    old_name = viewer.avatar.name
    client.patch(
        "/api/auth/me",
        {"avatar": upload("b.png", image_bytes(color=(0, 90, 200)))},
        format="multipart",
    )
    viewer.refresh_from_db()
    assert viewer.avatar.name != old_name
    # The old file goes once the transaction commits (the test transaction never does).
    assert public_storage().exists(viewer.avatar.name)


def test_the_old_avatar_file_is_deleted_after_commit(viewer, django_capture_on_commit_callbacks):
    user_update_profile(user=viewer, avatar=upload("a.png", image_bytes()))
    old_name = viewer.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        user_update_profile(user=viewer, avatar=upload("b.png", image_bytes()))
    assert not public_storage().exists(old_name)
    assert public_storage().exists(viewer.avatar.name)


def test_sending_null_removes_the_avatar(viewer, client_for, django_capture_on_commit_callbacks):
    client = client_for(viewer)
    client.patch("/api/auth/me", {"avatar": upload("a.png", image_bytes())}, format="multipart")
    viewer.refresh_from_db()
    old_name = viewer.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch("/api/auth/me", {"avatar": None}, format="json")
    assert response.status_code == 200
    assert response.json()["avatar_url"] is None
    assert not public_storage().exists(old_name)


def test_a_multipart_patch_without_a_file_keeps_the_avatar(viewer, client_for):
    client = client_for(viewer)
    client.patch("/api/auth/me", {"avatar": upload("a.png", image_bytes())}, format="multipart")
    response = client.patch("/api/auth/me", {"bio": "Still me"}, format="multipart")
    assert response.status_code == 200
    assert response.json()["avatar_url"] is not None


def test_bobs_token_only_ever_edits_bob(viewer, stranger, client_for):
    response = client_for(stranger).patch("/api/auth/me", {"bio": "Bob's bio"}, format="json")
    assert response.json()["id"] == stranger.pk
    viewer.refresh_from_db()
    assert viewer.bio == ""


def test_a_refused_update_changes_nothing_not_even_in_memory(viewer):
    from videohost.errors import InvalidInput

    with pytest.raises(InvalidInput) as raised:
        user_update_profile(
            user=viewer, display_name="New name", avatar=upload("x.png", b"not an image")
        )
    assert list(raised.value.details) == ["avatar"]
    assert viewer.display_name == "Victor"
    viewer.refresh_from_db()
    assert viewer.display_name == "Victor"
