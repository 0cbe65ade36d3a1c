import pytest
from django.db.models.signals import pre_save

from channels_app.models import Subscription
from channels_app.services import subscription_create, subscription_delete, subscription_update
from videohost.errors import Conflict, NotAllowed
from videohost.testing import ChannelFactory, SubscriptionFactory, assert_error_envelope


@pytest.mark.parametrize("path", ["/api/subscriptions", "/api/subscriptions/"])
def test_a_viewer_can_subscribe_to_a_channel(client_for, viewer, channel, path):
    response = client_for(viewer).post(path, {"channel_id": channel.pk}, format="json")

    assert response.status_code == 201, response.content
    subscription = Subscription.objects.get(user=viewer, channel=channel)
    assert response.json() == {
        "id": subscription.pk,
        "channel_id": channel.pk,
        "is_sponsor": False,
        "created_at": response.json()["created_at"],
    }


def test_a_viewer_can_subscribe_as_a_sponsor(client_for, viewer, channel):
    response = client_for(viewer).post(
        "/api/subscriptions", {"channel_id": channel.pk, "is_sponsor": True}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["is_sponsor"] is True
    assert Subscription.objects.get(user=viewer, channel=channel).is_sponsor is True


def test_subscribing_to_your_own_channel_is_refused(client_for, author, channel):
    response = client_for(author).post(
        "/api/subscriptions", {"channel_id": channel.pk}, format="json"
    )

    error = assert_error_envelope(response, 400, "BAD_REQUEST")
    assert list(error["details"]) == ["channel_id"]
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("channel_id", [999999, -1, 0, 10**30])
def test_subscribing_to_an_unknown_channel_is_not_found(client_for, viewer, channel_id):
    response = client_for(viewer).post(
        "/api/subscriptions", {"channel_id": channel_id}, format="json"
    )

    assert_error_envelope(response, 404, "NOT_FOUND")


@pytest.mark.parametrize("payload", [{}, {"channel_id": "abc"}, {"channel_id": None}])
def test_a_missing_or_malformed_channel_id_is_a_validation_error(client_for, viewer, payload):
    response = client_for(viewer).post("/api/subscriptions", payload, format="json")

    assert list(assert_error_envelope(response, 400, "BAD_REQUEST")["details"]) == ["channel_id"]


def test_subscribing_twice_is_a_conflict(client_for, subscriber, channel):
    response = client_for(subscriber).post(
        "/api/subscriptions/", {"channel_id": channel.pk, "is_sponsor": True}, format="json"
    )

    assert_error_envelope(response, 409, "CONFLICT")
    assert Subscription.objects.get(user=subscriber).is_sponsor is False


def test_anonymous_cannot_subscribe(api_client, channel):
    response = api_client.post("/api/subscriptions", {"channel_id": channel.pk}, format="json")

    assert_error_envelope(response, 401, "UNAUTHORIZED")


def test_losing_the_race_to_subscribe_is_a_conflict_not_an_error(viewer, channel):
    """A second request subscribes the same user between our check and our insert."""

    def other_request_wins(sender, instance, **kwargs):
        if instance.pk is None and instance.user_id == viewer.pk:
            Subscription.objects.bulk_create([Subscription(user=viewer, channel=channel)])

    pre_save.connect(other_request_wins, sender=Subscription)
    try:
        with pytest.raises(Conflict):
            subscription_create(user=viewer, channel_id=channel.pk, is_sponsor=True)
    finally:
        pre_save.disconnect(other_request_wins, sender=Subscription)


@pytest.mark.parametrize("path", ["/api/subscriptions", "/api/subscriptions/"])
def test_the_list_holds_only_the_callers_subscriptions(
    client_for, subscriber, sponsor, stranger, path
):
    own_second = SubscriptionFactory(user=subscriber, channel=stranger.channel)

    response = client_for(subscriber).get(path)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == 2
    assert [row["id"] for row in body["results"]] == [
        own_second.pk,
        Subscription.objects.get(user=subscriber, channel__owner__username="alice").pk,
    ]


def test_anonymous_cannot_list_subscriptions(api_client, db):
    assert_error_envelope(api_client.get("/api/subscriptions"), 401, "UNAUTHORIZED")


def test_a_subscriber_can_become_a_sponsor_and_back(client_for, subscriber):
    mine = Subscription.objects.get(user=subscriber)
    client = client_for(subscriber)

    up = client.patch(f"/api/subscriptions/{mine.pk}", {"is_sponsor": True}, format="json")
    assert up.status_code == 200, up.content
    assert up.json()["is_sponsor"] is True
    mine.refresh_from_db()
    assert mine.is_sponsor is True

    down = client.patch(f"/api/subscriptions/{mine.pk}/", {"is_sponsor": False}, format="json")
    assert down.json()["is_sponsor"] is False
    mine.refresh_from_db()
    assert mine.is_sponsor is False


def test_a_patch_needs_is_sponsor(client_for, subscriber):
    mine = Subscription.objects.get(user=subscriber)

    response = client_for(subscriber).patch(f"/api/subscriptions/{mine.pk}", {}, format="json")

    assert list(assert_error_envelope(response, 400, "BAD_REQUEST")["details"]) == ["is_sponsor"]


@pytest.mark.parametrize("persona", ["author", "viewer", "stranger", "moderator"])
def test_someone_else_cannot_change_a_subscription(client_for, subscriber, request, persona):
    sams = Subscription.objects.get(user=subscriber)
    someone = request.getfixturevalue(persona)

    response = client_for(someone).patch(
        f"/api/subscriptions/{sams.pk}", {"is_sponsor": True}, format="json"
    )

    # 404 rather than 403, so nobody learns which subscription ids exist.
    assert_error_envelope(response, 404, "NOT_FOUND")
    sams.refresh_from_db()
    assert sams.is_sponsor is False


@pytest.mark.parametrize("path", ["/api/subscriptions/{}", "/api/subscriptions/{}/"])
def test_a_subscriber_can_unsubscribe(client_for, subscriber, path):
    mine = Subscription.objects.get(user=subscriber)

    response = client_for(subscriber).delete(path.format(mine.pk))

    assert response.status_code == 204, response.content
    assert not Subscription.objects.filter(pk=mine.pk).exists()


@pytest.mark.parametrize("persona", ["author", "viewer", "stranger", "moderator"])
def test_someone_else_cannot_delete_a_subscription(client_for, subscriber, request, persona):
    sams = Subscription.objects.get(user=subscriber)
    someone = request.getfixturevalue(persona)

    response = client_for(someone).delete(f"/api/subscriptions/{sams.pk}")

    assert_error_envelope(response, 404, "NOT_FOUND")
    assert Subscription.objects.filter(pk=sams.pk).exists()


def test_anonymous_cannot_change_or_delete_a_subscription(api_client, subscriber):
    sams = Subscription.objects.get(user=subscriber)

    assert_error_envelope(
        api_client.patch(f"/api/subscriptions/{sams.pk}", {"is_sponsor": True}, format="json"),
        401,
        "UNAUTHORIZED",
    )
    assert_error_envelope(api_client.delete(f"/api/subscriptions/{sams.pk}"), 401, "UNAUTHORIZED")
    assert Subscription.objects.filter(pk=sams.pk, is_sponsor=False).exists()


def test_an_unknown_subscription_is_not_found(client_for, viewer):
    assert_error_envelope(client_for(viewer).delete("/api/subscriptions/999999"), 404, "NOT_FOUND")


def test_a_caller_can_read_one_of_their_subscriptions_but_not_others(
    client_for, subscriber, sponsor
):
    sams = Subscription.objects.get(user=subscriber)

    assert client_for(subscriber).get(f"/api/subscriptions/{sams.pk}").json()["id"] == sams.pk
    assert_error_envelope(
        client_for(sponsor).get(f"/api/subscriptions/{sams.pk}"), 404, "NOT_FOUND"
    )


def test_the_services_refuse_someone_elses_subscription(subscriber, stranger):
    sams = Subscription.objects.get(user=subscriber)

    with pytest.raises(NotAllowed):
        subscription_update(subscription=sams, actor=stranger, is_sponsor=True)
    with pytest.raises(NotAllowed):
        subscription_delete(subscription=sams, actor=stranger)
    sams.refresh_from_db()
    assert sams.is_sponsor is False


def test_listing_subscriptions_costs_the_same_queries_for_1_and_30(
    client_for, viewer, assert_flat_queries
):
    client = client_for(viewer)

    def add_rows(n: int) -> None:
        for channel in ChannelFactory.create_batch(n):
            SubscriptionFactory(user=viewer, channel=channel)

    # token + user, count, page
    assert_flat_queries(
        expected=4,
        add_rows=add_rows,
        fetch=lambda: client.get("/api/subscriptions", {"page_size": 100}),
    )
