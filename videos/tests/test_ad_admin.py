"""Ads are managed in the admin: exactly one real image or one playable video, within size."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from videohost.errors import InvalidInput, UnsupportedMedia
from videohost.storage import public_storage
from videohost.testing import UserFactory
from videos.models import Ad
from videos.services import ad_create
from videos.tests.helpers import png_bytes, stored_files

ADD = "/admin/videos/ad/add/"


@pytest.fixture
def admin_browser(db) -> Client:
    browser = Client()
    browser.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return browser


def add_ad(browser: Client, **files):
    return browser.post(
        ADD,
        {"title": "Buy socks", "target_url": "https://socks.example", "is_active": "on", **files},
    )


def form_errors(response) -> str:
    assert response.status_code == 200, "the form was accepted"
    return str(response.context["adminform"].form.errors)


def test_real_image_ad_is_stored_under_a_generated_name(admin_browser):
    upload = SimpleUploadedFile("../../evil name.jpg", png_bytes())
    response = add_ad(admin_browser, image=upload)
    assert response.status_code == 302
    ad = Ad.objects.get()
    assert ad.image.name.startswith("ads/")
    assert ad.image.name.endswith(".png")  # from the content, not the uploader's ".jpg"
    assert "evil" not in ad.image.name
    assert public_storage().exists(ad.image.name)


def test_real_video_ad_is_accepted(admin_browser, clip):
    response = add_ad(admin_browser, video=SimpleUploadedFile("spot.webm", clip, "video/webm"))
    assert response.status_code == 302
    ad = Ad.objects.get()
    assert ad.video.name.endswith(".mp4")  # from the probe, not the uploader's ".webm"


def test_html_posing_as_an_image_is_refused(admin_browser):
    before = stored_files()
    response = add_ad(admin_browser, image=SimpleUploadedFile("a.png", b"<html>hi</html>"))
    assert "image" in form_errors(response)
    assert not Ad.objects.exists()
    assert stored_files() == before


def test_image_posing_as_a_video_is_refused(admin_browser):
    response = add_ad(admin_browser, video=SimpleUploadedFile("a.mp4", png_bytes()))
    assert "Not a playable video" in form_errors(response)
    assert not Ad.objects.exists()


def test_an_ad_needs_exactly_one_creative(admin_browser, clip):
    assert "either an image or a short video" in form_errors(add_ad(admin_browser))
    both = add_ad(
        admin_browser,
        image=SimpleUploadedFile("a.png", png_bytes()),
        video=SimpleUploadedFile("a.mp4", clip),
    )
    assert "either an image or a short video" in form_errors(both)
    assert not Ad.objects.exists()


def test_oversize_creative_is_refused(admin_browser, settings):
    settings.MAX_AD_SIZE = 10
    response = add_ad(admin_browser, image=SimpleUploadedFile("a.png", png_bytes()))
    assert "larger than" in form_errors(response)
    assert not Ad.objects.exists()


def test_deleting_an_ad_removes_its_file(admin_browser, django_capture_on_commit_callbacks):
    add_ad(admin_browser, image=SimpleUploadedFile("a.png", png_bytes()))
    ad = Ad.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_browser.post(f"/admin/videos/ad/{ad.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not public_storage().exists(ad.image.name)


def test_ad_list_shows_previews(admin_browser):
    add_ad(admin_browser, image=SimpleUploadedFile("a.png", png_bytes()))
    ad = Ad.objects.get()
    page = admin_browser.get("/admin/videos/ad/").content.decode()
    assert f'<img src="{ad.image.url}"' in page


def test_moderators_manage_ads_without_extra_permission_grants(client, moderator):
    client.force_login(moderator)
    assert client.get(ADD).status_code == 200


def test_people_who_are_not_staff_cannot_open_the_ad_form(client, author):
    client.force_login(author)
    response = client.get(ADD)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


# --- The service, as the demo seed and future callers use it ---------------------------------


def test_ad_create_stores_a_checked_video_creative(db, clip):
    ad = ad_create(
        title="Spot",
        target_url="https://example.com",
        video=SimpleUploadedFile("spot.bin", clip, "application/octet-stream"),
    )
    assert ad.pk is not None
    assert ad.video.name.startswith("ads/") and ad.video.name.endswith(".mp4")
    assert public_storage().exists(ad.video.name)
    assert not ad.image


def test_ad_create_refuses_html_posing_as_an_image(db):
    before = stored_files()
    with pytest.raises(UnsupportedMedia):
        ad_create(
            title="Bad",
            target_url="https://example.com",
            image=SimpleUploadedFile("a.png", b"<svg onload=alert(1)>"),
        )
    assert not Ad.objects.exists()
    assert stored_files() == before


def test_ad_create_needs_exactly_one_creative(db, clip):
    with pytest.raises(InvalidInput):
        ad_create(title="None", target_url="https://example.com")
    with pytest.raises(InvalidInput):
        ad_create(
            title="Both",
            target_url="https://example.com",
            image=SimpleUploadedFile("a.png", png_bytes()),
            video=SimpleUploadedFile("a.mp4", clip),
        )


def test_ad_create_refuses_a_bad_target_url_and_stores_nothing(db):
    before = stored_files()
    with pytest.raises(InvalidInput) as caught:
        ad_create(
            title="Spot",
            target_url="javascript:alert(1)",
            image=SimpleUploadedFile("a.png", png_bytes()),
        )
    assert "target_url" in caught.value.details
    assert stored_files() == before
