"""Who may do what in a watch room: pure functions over plain inputs (no queries)."""

from django.conf import settings


def can_control(*, is_host: bool, guests_can_control: bool) -> bool:
    """Play, pause, seek and change the rate."""
    return is_host or guests_can_control


def participant_cap(*, is_channel_owner: bool, is_sponsor: bool) -> int | None:
    """The largest `max_participants` a host may set; None means no limit.

    The video's channel owner and its sponsors may host rooms of any size (API.md).
    """
    if is_channel_owner or is_sponsor:
        return None
    return settings.ROOM_DEFAULT_MAX_PARTICIPANTS


def default_max_participants(*, is_channel_owner: bool, is_sponsor: bool) -> int | None:
    """The cap a room gets when its host does not choose one: their own ceiling."""
    return participant_cap(is_channel_owner=is_channel_owner, is_sponsor=is_sponsor)


def slow_mode_applies(*, message_delay: int, is_host: bool, is_staff: bool) -> bool:
    """Slow mode holds back guests; the host and staff moderate the chat, so they are exempt."""
    return message_delay > 0 and not (is_host or is_staff)
