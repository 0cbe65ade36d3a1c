"""Reads of channels and subscriptions: counts and the caller's subscription without N+1."""

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from channels_app.models import Channel, Subscription
from videohost.errors import NotFound
from videos.models import Video, VideoStatus

VIEWER_SUBSCRIPTIONS = "viewer_subscriptions"


def _count_of(queryset: QuerySet) -> Coalesce:
    """A correlated COUNT per channel: unlike joined Counts, several never multiply each other."""
    counted = queryset.order_by().values("channel_id").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def channels_with_counts(*, user=None) -> QuerySet[Channel]:
    """Channels with `subscribers_count`, `sponsors_count`, `videos_count` and the owner.

    `videos_count` counts what listings show (ready, not hidden). For an authenticated
    `user`, their own subscription is prefetched (one more query for the whole page); read it
    with `viewer_subscription(channel)`.
    """
    subscriptions = Subscription.objects.filter(channel=OuterRef("pk"))
    queryset = Channel.objects.select_related("owner").annotate(
        subscribers_count=_count_of(subscriptions),
        sponsors_count=_count_of(subscriptions.filter(is_sponsor=True)),
        videos_count=_count_of(
            Video.objects.filter(channel=OuterRef("pk"), status=VideoStatus.READY, is_hidden=False)
        ),
    )
    if getattr(user, "is_authenticated", False):
        queryset = queryset.prefetch_related(
            Prefetch(
                "subscriptions",
                queryset=Subscription.objects.filter(user=user),
                to_attr=VIEWER_SUBSCRIPTIONS,
            )
        )
    return queryset


def viewer_subscription(channel: Channel) -> Subscription | None:
    """The caller's subscription to a channel from `channels_with_counts(user=...)`, or None."""
    found = getattr(channel, VIEWER_SUBSCRIPTIONS, None)
    return found[0] if found else None


def channel_with_counts(*, channel_id: int, user=None) -> Channel:
    """One channel as `channels_with_counts` shapes it, or NotFound."""
    try:
        return channels_with_counts(user=user).get(pk=channel_id)
    except (Channel.DoesNotExist, ValueError, TypeError):
        raise NotFound("Channel not found.") from None


def channel_search(*, query: str | None = None, user=None) -> QuerySet[Channel]:
    """`channels_with_counts` narrowed to a case-insensitive match on title, description or
    the owner's username; a blank query matches every channel."""
    queryset = channels_with_counts(user=user)
    query = (query or "").strip()
    if query:
        queryset = queryset.filter(
            Q(title__icontains=query)
            | Q(description__icontains=query)
            | Q(owner__username__icontains=query)
        )
    return queryset


def user_subscriptions(*, user) -> QuerySet[Subscription]:
    """The user's subscriptions, newest first, with each channel and its owner."""
    if not getattr(user, "is_authenticated", False):
        return Subscription.objects.none()
    return Subscription.objects.filter(user=user).select_related("channel", "channel__owner")
