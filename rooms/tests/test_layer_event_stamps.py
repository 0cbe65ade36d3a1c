"""A socket ignores what its own process published before it subscribed (rooms.events).

Under Redis pub/sub a process reads its own publications back through one shared subscription,
so a socket that has just joined could hear, late, an event its room_state already reflects
(the consumer tests under REDIS_URL hit this: a guest heard the host's own user_joined).
"""

from rooms import events


def stamped_at(sent_at: float, *, origin: str = events.PROCESS_TOKEN) -> dict:
    return {"type": "room.event", "text": "{}", "origin": origin, "sent_at": sent_at}


def test_an_event_this_process_sent_before_the_socket_subscribed_is_stale():
    assert events.is_stale_for(stamped_at(10.0), subscribed_at=10.5)


def test_an_event_sent_after_the_socket_subscribed_is_delivered():
    assert not events.is_stale_for(stamped_at(10.5), subscribed_at=10.5)
    assert not events.is_stale_for(stamped_at(11.0), subscribed_at=10.5)


def test_another_process_clock_is_never_compared():
    assert not events.is_stale_for(stamped_at(1.0, origin="elsewhere"), subscribed_at=10.5)


def test_a_socket_not_yet_subscribed_and_unstamped_messages_drop_nothing():
    assert not events.is_stale_for(stamped_at(1.0), subscribed_at=None)
    assert not events.is_stale_for({"type": "websocket.receive"}, subscribed_at=10.5)


def test_what_the_layer_carries_is_stamped_with_this_process():
    message = events._stamped({"type": "room.updated", "changes": {}})
    assert message["origin"] == events.PROCESS_TOKEN and isinstance(message["sent_at"], float)
