import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from channels_app.admin import ChannelAdmin
from channels_app.models import Channel, Subscription
from videohost.testing import ChannelFactory, SubscriptionFactory, UserFactory, VideoFactory
from videos.models import Video, VideoStatus

CHANNELS = reverse("admin:channels_app_channel_changelist")
SUBSCRIPTIONS = reverse("admin:channels_app_subscription_changelist")


def test_the_channel_list_shows_counts(admin_client, channel, subscriber, sponsor):
    VideoFactory(channel=channel, with_file=False)
    VideoFactory(channel=channel, status=VideoStatus.PROCESSING, with_file=False)

    response = admin_client.get(CHANNELS)

    assert response.status_code == 200
    row = response.context["cl"].result_list[0]
    assert (row.subscribers_count, row.sponsors_count, row.videos_count) == (2, 1, 1)
    assert "Workshop" in response.content.decode()


def test_the_channel_list_searches_title_and_owner(admin_client, channel, stranger):
    by_owner = admin_client.get(CHANNELS, {"q": "bob"})
    by_title = admin_client.get(CHANNELS, {"q": "workshop"})

    assert [c.pk for c in by_owner.context["cl"].result_list] == [stranger.channel.pk]
    assert [c.pk for c in by_title.context["cl"].result_list] == [channel.pk]


def test_the_channel_list_can_sort_by_a_count(admin_client, channel, subscriber, stranger):
    # The changelist numbers its columns after the action checkbox.
    column = ChannelAdmin.list_display.index("subscribers") + 1

    response = admin_client.get(CHANNELS, {"o": f"-{column}"})

    assert [c.pk for c in response.context["cl"].result_list] == [
        channel.pk,
        stranger.channel.pk,
    ]


def test_the_channel_list_costs_the_same_queries_for_1_and_30(
    admin_client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def add(n: int) -> None:
        for made in ChannelFactory.create_batch(n):
            SubscriptionFactory(channel=made)
            VideoFactory(channel=made, with_file=False)

    add(1)
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(CHANNELS).status_code == 200
    add(29)
    with django_assert_num_queries(len(one.captured_queries)):
        response = admin_client.get(CHANNELS)
    assert len(response.context["cl"].result_list) == 30


def test_the_subscription_list_filters_and_searches(admin_client, subscriber, sponsor, stranger):
    SubscriptionFactory(user=sponsor, channel=stranger.channel)

    sponsors = admin_client.get(SUBSCRIPTIONS, {"is_sponsor__exact": "1"})
    by_user = admin_client.get(SUBSCRIPTIONS, {"q": "sam"})
    by_channel = admin_client.get(SUBSCRIPTIONS, {"q": "garage"})

    assert [s.user.username for s in sponsors.context["cl"].result_list] == ["sophie"]
    assert [s.user.username for s in by_user.context["cl"].result_list] == ["sam"]
    assert [s.channel_id for s in by_channel.context["cl"].result_list] == [stranger.channel.pk]


def test_the_subscription_list_costs_the_same_queries_for_1_and_30(
    admin_client, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    SubscriptionFactory()
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(SUBSCRIPTIONS).status_code == 200
    SubscriptionFactory.create_batch(29)
    with django_assert_num_queries(len(one.captured_queries)):
        response = admin_client.get(SUBSCRIPTIONS)
    assert len(response.context["cl"].result_list) == 30


def test_a_moderator_deleting_a_channel_takes_it_down_with_its_videos(
    admin_client, author, channel, subscriber
):
    VideoFactory(channel=channel)

    response = admin_client.post(
        reverse("admin:channels_app_channel_delete", args=[channel.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert not Video.objects.exists()
    assert not Subscription.objects.exists()
    author.refresh_from_db()
    assert author.is_author is False


def test_the_bulk_delete_action_takes_every_chosen_channel_down(admin_client, channel, stranger):
    response = admin_client.post(
        CHANNELS,
        {
            "action": "delete_selected",
            "_selected_action": [channel.pk, stranger.channel.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not Channel.objects.exists()
    channel.owner.refresh_from_db()
    stranger.refresh_from_db()
    assert (channel.owner.is_author, stranger.is_author) == (False, False)


def test_a_moderator_can_remove_a_subscription(admin_client, subscriber):
    sams = Subscription.objects.get(user=subscriber)

    admin_client.post(
        reverse("admin:channels_app_subscription_delete", args=[sams.pk]), {"post": "yes"}
    )

    assert not Subscription.objects.filter(pk=sams.pk).exists()


@pytest.mark.parametrize("name", ["channels_app_channel_add", "channels_app_subscription_add"])
def test_the_admin_does_not_create_channels_or_subscriptions(admin_client, name):
    # Users make these through the services, which also set is_author.
    assert admin_client.get(reverse(f"admin:{name}")).status_code == 403


def test_the_channel_page_is_read_only_for_moderators(admin_client, channel):
    url = reverse("admin:channels_app_channel_change", args=[channel.pk])

    admin_client.post(url, {"title": "Renamed by admin", "owner": channel.owner_id})

    channel.refresh_from_db()
    assert channel.title == "Alice's Workshop"
    assert admin_client.get(url).status_code == 200


def test_someone_who_is_not_staff_cannot_reach_the_channel_admin(client, viewer):
    client.force_login(viewer)

    response = client.get(CHANNELS)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_is_registered_for_both_models():
    assert isinstance(site._registry[Channel], ChannelAdmin)
    assert Subscription in site._registry


def test_a_takedown_by_someone_who_is_not_staff_is_refused(channel, viewer):
    from channels_app.services import channel_takedown
    from videohost.errors import NotAllowed

    with pytest.raises(NotAllowed):
        channel_takedown(channel=channel, moderator=viewer)
    assert Channel.objects.filter(pk=channel.pk).exists()


def test_a_superuser_is_unaffected_by_users_having_channels(admin_client, db):
    # A moderator's own account (no channel) can still list channels made by others.
    UserFactory()
    assert admin_client.get(CHANNELS).status_code == 200
