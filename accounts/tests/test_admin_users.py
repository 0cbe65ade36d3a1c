"""The user list for moderators: columns, search, filters, no N+1."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.services import user_update_profile
from accounts.tests.conftest import image_bytes
from videohost.testing import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/user/"


def test_moderator_sees_the_user_list_with_its_columns(client, moderator, viewer):
    client.force_login(moderator)
    response = client.get(CHANGELIST)
    assert response.status_code == 200
    html = response.content.decode()
    for column in ("Username", "Email", "Display name", "Is author", "Staff status", "Active"):
        assert column.lower() in html.lower()
    assert "victor@example.com" in html
    assert "Ban selected users" in html


def test_moderator_searches_by_username_and_by_email(client, moderator, viewer, stranger):
    client.force_login(moderator)
    by_name = client.get(CHANGELIST, {"q": "VICT"}).context["cl"].result_list
    assert [user.username for user in by_name] == ["victor"]
    by_email = client.get(CHANGELIST, {"q": "bob@example"}).context["cl"].result_list
    assert [user.username for user in by_email] == ["bob"]


def test_moderator_filters_inactive_users(client, moderator, viewer):
    UserFactory(username="banned", is_active=False)
    client.force_login(moderator)
    result = client.get(CHANGELIST, {"is_active__exact": "0"}).context["cl"].result_list
    assert [user.username for user in result] == ["banned"]


def test_the_list_costs_the_same_queries_for_one_user_and_for_thirty(
    client, moderator, django_assert_num_queries
):
    client.force_login(moderator)
    client.get(CHANGELIST)  # warm the session and content types

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(CHANGELIST).status_code == 200
        return len(captured)

    with_one = count_queries()
    UserFactory.create_batch(30)
    with django_assert_num_queries(with_one):
        assert client.get(CHANGELIST).status_code == 200


def test_the_change_page_shows_the_avatar(client, moderator, viewer):
    user_update_profile(
        user=viewer, avatar=SimpleUploadedFile("a.png", image_bytes(), content_type="image/png")
    )
    client.force_login(moderator)
    response = client.get(reverse("admin:accounts_user_change", args=[viewer.pk]))
    assert response.status_code == 200
    assert f'src="{viewer.avatar_url}"' in response.content.decode()


def test_a_moderator_takes_an_offensive_avatar_down(client, moderator, viewer):
    from accounts.tests.test_deactivation import change_form_data

    user_update_profile(
        user=viewer, avatar=SimpleUploadedFile("a.png", image_bytes(), content_type="image/png")
    )
    client.force_login(moderator)
    response = client.post(
        reverse("admin:accounts_user_change", args=[viewer.pk]),
        change_form_data(viewer, remove_avatar="on"),
    )
    assert response.status_code == 302
    viewer.refresh_from_db()
    assert not viewer.avatar


def test_people_who_are_not_staff_cannot_open_the_user_list(client, viewer):
    client.force_login(viewer)
    response = client.get(CHANGELIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
