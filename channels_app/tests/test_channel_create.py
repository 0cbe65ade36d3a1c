import pytest
from django.db.models.signals import pre_save

from accounts.models import User
from channels_app.models import Channel
from channels_app.services import channel_create
from videohost.errors import Conflict, InvalidInput
from videohost.testing import assert_error_envelope


@pytest.mark.parametrize("path", ["/api/channels", "/api/channels/"])
def test_creating_a_channel_makes_the_user_an_author(client_for, viewer, path):
    response = client_for(viewer).post(
        path, {"title": "Victor's Kitchen", "description": "Soups."}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    channel = Channel.objects.get(owner=viewer)
    assert body == {
        "id": channel.pk,
        "owner": {
            "id": viewer.pk,
            "username": "victor",
            "display_name": "Victor",
            "avatar_url": None,
            "is_author": True,
        },
        "title": "Victor's Kitchen",
        "description": "Soups.",
        "subscribers_count": 0,
        "sponsors_count": 0,
        "videos_count": 0,
        "is_live": False,
        "created_at": body["created_at"],
        "subscription": None,
    }
    viewer.refresh_from_db()
    assert viewer.is_author is True


def test_a_channel_needs_no_description(client_for, viewer):
    response = client_for(viewer).post("/api/channels", {"title": "Plain"}, format="json")

    assert response.status_code == 201, response.content
    assert response.json()["description"] == ""


def test_anonymous_cannot_create_a_channel(api_client, db):
    response = api_client.post("/api/channels", {"title": "Nobody's"}, format="json")

    assert_error_envelope(response, 401, "UNAUTHORIZED")
    assert not Channel.objects.exists()


def test_a_user_with_a_channel_cannot_create_a_second_one(client_for, author):
    response = client_for(author).post("/api/channels/", {"title": "Another"}, format="json")

    error = assert_error_envelope(response, 409, "CONFLICT")
    assert error["message"] == "You already have a channel"
    assert Channel.objects.filter(owner=author).count() == 1
    assert author.channel.title == "Alice's Workshop"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "title"),
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 101}, "title"),
        ({"title": "Fine", "description": "d" * 5001}, "description"),
    ],
)
def test_an_invalid_title_or_description_is_refused_with_field_details(
    client_for, viewer, payload, field
):
    response = client_for(viewer).post("/api/channels", payload, format="json")

    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert list(error["details"]) == [field]
    assert not Channel.objects.exists()
    viewer.refresh_from_db()
    assert viewer.is_author is False


def test_the_longest_allowed_title_and_description_are_accepted(client_for, viewer):
    response = client_for(viewer).post(
        "/api/channels", {"title": "t" * 100, "description": "d" * 5000}, format="json"
    )

    assert response.status_code == 201, response.content


def test_the_service_refuses_a_blank_title_after_trimming(viewer):
    with pytest.raises(InvalidInput) as caught:
        channel_create(owner=viewer, title=" \t ")

    assert list(caught.value.details) == ["title"]


def test_the_service_trims_the_title(viewer):
    channel = channel_create(owner=viewer, title="  Spaced  ", description=" About. ")

    assert (channel.title, channel.description) == ("Spaced", "About.")


def test_losing_the_race_for_a_channel_is_a_conflict_not_an_error(viewer):
    """Another request creates the user's channel between our check and our insert."""

    def other_request_wins(sender, instance, **kwargs):
        if instance.pk is None and instance.owner_id == viewer.pk:
            # bulk_create sends no pre_save, so this does not re-enter the hook.
            Channel.objects.bulk_create([Channel(owner=viewer, title="The winner")])

    pre_save.connect(other_request_wins, sender=Channel)
    try:
        with pytest.raises(Conflict):
            channel_create(owner=viewer, title="The loser")
    finally:
        pre_save.disconnect(other_request_wins, sender=Channel)

    assert not Channel.objects.filter(title="The loser").exists()
    assert User.objects.get(pk=viewer.pk).is_author is False
