import pytest

from channels_app.models import Channel, Subscription
from videohost.testing import SubscriptionFactory, VideoFactory, assert_error_envelope
from videos.models import Video


@pytest.mark.parametrize("path", ["/api/channels/{}", "/api/channels/{}/"])
def test_anyone_can_read_a_channel(api_client, channel, path):
    response = api_client.get(path.format(channel.pk))

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == channel.pk
    assert body["title"] == "Alice's Workshop"
    assert body["owner"]["username"] == "alice"
    assert "email" not in body["owner"]
    assert body["subscription"] is None


def test_the_subscription_field_is_the_callers_own(client_for, channel, subscriber, sponsor):
    sams = Subscription.objects.get(user=subscriber)

    as_sam = client_for(subscriber).get(f"/api/channels/{channel.pk}").json()
    as_sophie = client_for(sponsor).get(f"/api/channels/{channel.pk}").json()

    assert as_sam["subscription"] == {
        "id": sams.pk,
        "channel_id": channel.pk,
        "is_sponsor": False,
        "created_at": as_sam["subscription"]["created_at"],
    }
    assert as_sophie["subscription"]["is_sponsor"] is True
    assert as_sophie["subscription"]["id"] != sams.pk


def test_the_subscription_field_is_null_for_someone_not_subscribed(client_for, channel, viewer):
    SubscriptionFactory(user=viewer)  # to some other channel

    response = client_for(viewer).get(f"/api/channels/{channel.pk}")

    assert response.json()["subscription"] is None


def test_an_unknown_channel_is_not_found(api_client, db):
    assert_error_envelope(api_client.get("/api/channels/999999"), 404, "NOT_FOUND")
    assert_error_envelope(api_client.get("/api/channels/99999999999999999999999"), 404, "NOT_FOUND")
    assert_error_envelope(api_client.get("/api/channels/not-a-number/"), 404, "NOT_FOUND")


@pytest.mark.parametrize("path", ["/api/channels/{}", "/api/channels/{}/"])
def test_the_owner_can_rename_and_redescribe_the_channel(client_for, author, channel, path):
    response = client_for(author).patch(
        path.format(channel.pk), {"title": "Alice's Lab", "description": "New."}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Alice's Lab"
    channel.refresh_from_db()
    assert (channel.title, channel.description) == ("Alice's Lab", "New.")


def test_a_partial_update_leaves_other_fields_alone(client_for, author, channel):
    client_for(author).patch(f"/api/channels/{channel.pk}", {"title": "Only"}, format="json")

    channel.refresh_from_db()
    assert (channel.title, channel.description) == ("Only", "Videos about things.")


def test_the_update_answer_carries_the_counts(client_for, author, channel, subscriber, sponsor):
    VideoFactory(channel=channel, with_file=False)

    body = client_for(author).patch(f"/api/channels/{channel.pk}", {}, format="json").json()

    assert (body["subscribers_count"], body["sponsors_count"], body["videos_count"]) == (2, 1, 1)


@pytest.mark.parametrize("persona", ["stranger", "subscriber", "moderator"])
def test_someone_else_cannot_change_a_channel(client_for, channel, request, persona):
    someone = request.getfixturevalue(persona)

    response = client_for(someone).patch(
        f"/api/channels/{channel.pk}", {"title": "Hijacked"}, format="json"
    )

    assert_error_envelope(response, 403, "FORBIDDEN")
    channel.refresh_from_db()
    assert channel.title == "Alice's Workshop"


def test_anonymous_cannot_change_a_channel(api_client, channel):
    response = api_client.patch(f"/api/channels/{channel.pk}", {"title": "X"}, format="json")

    assert_error_envelope(response, 401, "UNAUTHORIZED")


def test_changing_an_unknown_channel_is_not_found(client_for, author):
    assert_error_envelope(
        client_for(author).patch("/api/channels/999999", {"title": "X"}, format="json"),
        404,
        "NOT_FOUND",
    )


def test_a_blank_title_is_refused_on_update(client_for, author, channel):
    response = client_for(author).patch(
        f"/api/channels/{channel.pk}", {"title": "  "}, format="json"
    )

    assert list(assert_error_envelope(response, 400, "BAD_REQUEST")["details"]) == ["title"]


def test_put_is_not_offered(client_for, author, channel):
    response = client_for(author).put(
        f"/api/channels/{channel.pk}", {"title": "X", "description": ""}, format="json"
    )

    assert_error_envelope(response, 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("path", ["/api/channels/{}", "/api/channels/{}/"])
def test_deleting_a_channel_takes_its_videos_and_subscriptions(
    client_for, author, channel, subscriber, sponsor, stranger, path
):
    VideoFactory.create_batch(2, channel=channel)
    kept_video = VideoFactory(channel=stranger.channel)
    kept_subscription = SubscriptionFactory(user=subscriber, channel=stranger.channel)

    response = client_for(author).delete(path.format(channel.pk))

    assert response.status_code == 204, response.content
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert list(Video.objects.all()) == [kept_video]
    assert list(Subscription.objects.all()) == [kept_subscription]
    author.refresh_from_db()
    assert author.is_author is False


def test_a_user_who_deleted_their_channel_can_create_a_new_one(client_for, author, channel):
    client = client_for(author)
    client.delete(f"/api/channels/{channel.pk}")

    response = client.post("/api/channels", {"title": "Fresh start"}, format="json")

    assert response.status_code == 201, response.content
    author.refresh_from_db()
    assert author.is_author is True


@pytest.mark.parametrize("persona", ["stranger", "subscriber", "moderator"])
def test_someone_else_cannot_delete_a_channel(client_for, channel, request, persona):
    VideoFactory(channel=channel, with_file=False)
    someone = request.getfixturevalue(persona)

    response = client_for(someone).delete(f"/api/channels/{channel.pk}")

    assert_error_envelope(response, 403, "FORBIDDEN")
    assert Channel.objects.filter(pk=channel.pk).exists()
    assert Video.objects.filter(channel=channel).count() == 1
    channel.owner.refresh_from_db()
    assert channel.owner.is_author is True


def test_anonymous_cannot_delete_a_channel(api_client, channel):
    assert_error_envelope(api_client.delete(f"/api/channels/{channel.pk}"), 401, "UNAUTHORIZED")
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_deleting_an_unknown_channel_is_not_found(client_for, author):
    assert_error_envelope(client_for(author).delete("/api/channels/999999"), 404, "NOT_FOUND")


def test_deleting_a_channel_removes_its_videos_files_once_committed(
    client_for, author, channel, django_capture_on_commit_callbacks
):
    video = VideoFactory(channel=channel)
    storage, name = video.file.storage, video.file.name
    assert storage.exists(name)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(author).delete(f"/api/channels/{channel.pk}")

    assert response.status_code == 204, response.content
    assert not storage.exists(name)
