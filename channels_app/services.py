"""Every write to channels and subscriptions: the API, the pages and the admin call these."""

from django.db import IntegrityError, transaction

from accounts.models import User
from channels_app.models import Channel, Subscription
from videohost.errors import Conflict, InvalidInput, NotAllowed, NotFound

TITLE_MAX_LENGTH = Channel._meta.get_field("title").max_length
DESCRIPTION_MAX_LENGTH = Channel._meta.get_field("description").max_length


def _clean_title(title: str) -> str:
    title = (title or "").strip()
    if not title:
        raise InvalidInput(
            "Give your channel a title.", details={"title": ["This field may not be blank."]}
        )
    if len(title) > TITLE_MAX_LENGTH:
        message = f"Ensure this field has no more than {TITLE_MAX_LENGTH} characters."
        raise InvalidInput(f"title: {message}", details={"title": [message]})
    return title


def _clean_description(description: str) -> str:
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        message = f"Ensure this field has no more than {DESCRIPTION_MAX_LENGTH} characters."
        raise InvalidInput(f"description: {message}", details={"description": [message]})
    return description


def _set_is_author(user: User, value: bool) -> None:
    if user.is_author != value:
        user.is_author = value
        user.save(update_fields=["is_author"])


@transaction.atomic
def channel_create(*, owner: User, title: str, description: str = "") -> Channel:
    if Channel.objects.filter(owner=owner).exists():
        raise Conflict("You already have a channel")
    title = _clean_title(title)
    description = _clean_description(description)
    try:
        # A savepoint, so a concurrent create losing the OneToOne race leaves the outer
        # transaction usable and turns into the same 409 as the check above.
        with transaction.atomic():
            channel = Channel.objects.create(owner=owner, title=title, description=description)
    except IntegrityError:
        raise Conflict("You already have a channel") from None
    _set_is_author(owner, True)
    return channel


@transaction.atomic
def channel_update(
    *,
    channel: Channel,
    actor: User,
    title: str | None = None,
    description: str | None = None,
) -> Channel:
    if channel.owner_id != actor.pk:
        raise NotAllowed("Only the channel's owner can change it.")
    changed = []
    if title is not None:
        channel.title = _clean_title(title)
        changed.append("title")
    if description is not None:
        channel.description = _clean_description(description)
        changed.append("description")
    if changed:
        channel.save(update_fields=changed)
    return channel


def _channel_destroy(channel: Channel) -> None:
    owner = channel.owner
    # The database cascade takes the channel's videos (whose post_delete hook removes their
    # files), their rooms and the channel's subscriptions.
    channel.delete()
    _set_is_author(owner, False)


@transaction.atomic
def channel_delete(*, channel: Channel, actor: User) -> None:
    if channel.owner_id != actor.pk:
        raise NotAllowed("Only the channel's owner can delete it.")
    _channel_destroy(channel)


@transaction.atomic
def channel_takedown(*, channel: Channel, moderator: User) -> None:
    """A moderator removes a channel (the admin's delete action)."""
    if not moderator.is_staff:
        raise NotAllowed("Only moderators can take a channel down.")
    _channel_destroy(channel)


@transaction.atomic
def subscription_create(*, user: User, channel_id: int, is_sponsor: bool = False) -> Subscription:
    try:
        channel = Channel.objects.get(pk=channel_id)
    except (Channel.DoesNotExist, ValueError, TypeError):
        raise NotFound("Channel not found.") from None
    if channel.owner_id == user.pk:
        message = "You cannot subscribe to your own channel."
        raise InvalidInput(message, details={"channel_id": [message]})
    if Subscription.objects.filter(user=user, channel=channel).exists():
        raise Conflict("You are already subscribed to this channel.")
    try:
        # The unique (user, channel) constraint settles a concurrent double subscribe.
        with transaction.atomic():
            return Subscription.objects.create(user=user, channel=channel, is_sponsor=is_sponsor)
    except IntegrityError:
        raise Conflict("You are already subscribed to this channel.") from None


@transaction.atomic
def subscription_update(
    *, subscription: Subscription, actor: User, is_sponsor: bool
) -> Subscription:
    if subscription.user_id != actor.pk:
        raise NotAllowed("This is not your subscription.")
    if subscription.is_sponsor != is_sponsor:
        subscription.is_sponsor = is_sponsor
        subscription.save(update_fields=["is_sponsor"])
    return subscription


@transaction.atomic
def subscription_delete(*, subscription: Subscription, actor: User) -> None:
    if subscription.user_id != actor.pk:
        raise NotAllowed("This is not your subscription.")
    subscription.delete()


@transaction.atomic
def subscription_takedown(*, subscription: Subscription, moderator: User) -> None:
    """A moderator removes a subscription (the admin's delete action)."""
    if not moderator.is_staff:
        raise NotAllowed("Only moderators can remove someone's subscription.")
    subscription.delete()
