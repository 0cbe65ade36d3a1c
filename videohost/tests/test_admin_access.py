"""Moderators can open every admin list and change page; nobody else can open either."""

import pytest
from django.contrib import admin
from django.urls import reverse

from videohost.testing import ChannelFactory, SubscriptionFactory, VideoFactory


@pytest.fixture
def one_of_everything(author, subscriber, moderator):
    """At least one row for every registered model, so each change page can be opened."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from rooms.services import chat_post, room_create
    from videohost.testing import sample_clip_bytes
    from videos.services import ad_create

    video = VideoFactory(channel=author.channel, title="Admin sample")
    room = room_create(user=subscriber, video_id=video.pk)
    chat_post(room_id=room.pk, user=subscriber, message="hello")
    SubscriptionFactory(channel=ChannelFactory(), user=subscriber)
    ad_create(
        title="An ad",
        target_url="https://example.com/",
        video=SimpleUploadedFile("ad.mp4", sample_clip_bytes(), "video/mp4"),
    )


PROJECT_APPS = {"accounts", "channels_app", "videos", "rooms"}


def registered_models(*, project_only: bool = True):
    models = sorted(admin.site._registry, key=lambda model: model._meta.label)
    return [m for m in models if not project_only or m._meta.app_label in PROJECT_APPS]


def admin_urls(*, project_only: bool = True):
    for model in registered_models(project_only=project_only):
        opts = model._meta
        yield model, reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")


def change_urls(*, project_only: bool = True):
    """The change page of the first row of every registered model that has one."""
    for model, _ in admin_urls(project_only=project_only):
        obj = model._default_manager.first()
        if obj is not None:
            opts = model._meta
            yield reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])


def assert_sent_to_login(client) -> None:
    pages = [url for _, url in admin_urls(project_only=False)]
    pages += list(change_urls(project_only=False))
    assert len(pages) > 10
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, f"{url} → {response.status_code}"
        assert response["Location"].startswith(reverse("admin:login"))


def open_every_list_and_change_page(client, *, project_only: bool) -> int:
    assert client.get(reverse("admin:index")).status_code == 200
    opened_change_pages = 0
    for model, changelist in admin_urls(project_only=project_only):
        response = client.get(changelist)
        assert response.status_code == 200, f"{changelist} → {response.status_code}"
        obj = model._default_manager.first()
        if obj is None:
            continue
        opts = model._meta
        change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        response = client.get(change)
        assert response.status_code == 200, f"{change} → {response.status_code}"
        opened_change_pages += 1
    return opened_change_pages


def test_moderator_opens_every_moderation_list_and_change_page(
    client, moderator, one_of_everything
):
    client.force_login(moderator)
    assert open_every_list_and_change_page(client, project_only=True) == 7


def test_superuser_opens_every_registered_list_and_change_page(client, one_of_everything):
    from videohost.testing import UserFactory

    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert open_every_list_and_change_page(client, project_only=False) >= 5


@pytest.mark.parametrize("persona", ["viewer", "author", "subscriber"])
def test_people_who_are_not_staff_are_sent_to_the_admin_login(
    client, request, persona, one_of_everything
):
    client.force_login(request.getfixturevalue(persona))
    assert_sent_to_login(client)


def test_anonymous_visitors_are_sent_to_the_admin_login(client, one_of_everything):
    assert_sent_to_login(client)
