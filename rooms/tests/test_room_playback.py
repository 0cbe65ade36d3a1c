"""playback_control, presence (sockets opening and closing) and the host's grace period."""

import math
from datetime import timedelta

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from rooms import services
from rooms.models import Room, RoomParticipant
from rooms.selectors import room_state
from rooms.tests.interleaving import on_first_read, on_first_remembered
from videohost.errors import InvalidInput, NotAllowed, NotAuthenticated, NotFound
from videohost.testing import VideoFactory

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


@pytest.fixture
def video(channel):
    return VideoFactory(channel=channel, duration=120.0)


@pytest.fixture
def room(viewer, video, subscriber):
    """Victor hosts, Sam is a guest; playback is paused at 0."""
    room = services.room_create(user=viewer, video_id=video.pk)
    services.room_join(room_id=room.pk, user=subscriber)
    return room


def control(room, user, action, now=T0, **kwargs):
    return services.playback_control(room_id=room.pk, user=user, action=action, now=now, **kwargs)


def stored(room) -> Room:
    return Room.objects.select_related("video").get(pk=room.pk)


# --- playback_control -------------------------------------------------------------------------


def test_the_host_plays_and_everyone_derives_the_position_from_the_stored_state(room, viewer):
    state = control(room, viewer, "play", position=12.0)
    assert (state.position, state.is_playing, state.server_time, state.seq) == (12.0, True, T0, 1)
    row = stored(room)
    assert (row.current_position, row.is_playing, row.seq) == (12.0, True, 1)
    assert row.state_updated_at.timestamp() == pytest.approx(T0)
    assert room_state(row, now=T0 + 10).position == pytest.approx(22.0)


def test_every_control_grows_seq_by_one(room, viewer):
    seqs = [
        control(room, viewer, "play", position=1.0, now=T0).seq,
        control(room, viewer, "seek", position=50.0, now=T0 + 1).seq,
        control(room, viewer, "rate", rate=1.5, now=T0 + 2).seq,
        control(room, viewer, "pause", position=52.0, now=T0 + 3).seq,
    ]
    assert seqs == [1, 2, 3, 4]


def test_pause_without_a_position_stops_at_the_position_now(room, viewer):
    control(room, viewer, "play", position=10.0, now=T0)
    state = control(room, viewer, "pause", now=T0 + 4)
    assert (state.position, state.is_playing) == (pytest.approx(14.0), False)


def test_a_rate_change_keeps_the_position_and_speeds_up(room, viewer):
    control(room, viewer, "play", position=10.0, now=T0)
    state = control(room, viewer, "rate", rate=2.0, now=T0 + 5)
    assert (state.position, state.rate) == (pytest.approx(15.0), 2.0)
    assert room_state(stored(room), now=T0 + 7).position == pytest.approx(19.0)


def test_a_guest_cannot_control_playback(room, subscriber):
    with pytest.raises(NotAllowed) as refused:
        control(room, subscriber, "play", position=5.0)
    assert refused.value.code == "FORBIDDEN"
    assert stored(room).seq == 0


def test_a_guest_may_control_when_the_host_allows_it(room, viewer, subscriber):
    services.room_update(room_id=room.pk, actor=viewer, guests_can_control=True)
    assert control(room, subscriber, "seek", position=30.0).position == 30.0


def test_someone_not_in_the_room_cannot_control_it_even_when_guests_may(room, viewer, stranger):
    services.room_update(room_id=room.pk, actor=viewer, guests_can_control=True)
    with pytest.raises(NotAllowed):
        control(room, stranger, "play", position=0.0)


def test_anonymous_visitors_cannot_control_playback(room):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        control(room, AnonymousUser(), "play", position=0.0)


@pytest.mark.parametrize("position", [-0.1, 120.5, math.inf, math.nan, "12", True])
def test_a_position_outside_the_video_or_not_a_number_is_refused(room, viewer, position):
    with pytest.raises(InvalidInput) as refused:
        control(room, viewer, "seek", position=position)
    assert "position" in refused.value.details
    assert stored(room).seq == 0


def test_the_very_end_of_the_video_is_a_valid_position(room, viewer):
    assert control(room, viewer, "seek", position=120.0).position == 120.0


def test_a_seek_needs_a_position(room, viewer):
    with pytest.raises(InvalidInput):
        control(room, viewer, "seek")


@pytest.mark.parametrize("rate", [0.24, 4.01, 0, None, math.inf, "2"])
def test_a_rate_outside_a_quarter_to_four_is_refused(room, viewer, rate):
    with pytest.raises(InvalidInput) as refused:
        control(room, viewer, "rate", rate=rate)
    assert "rate" in refused.value.details


@pytest.mark.parametrize("rate", [0.25, 4])
def test_the_rate_bounds_themselves_are_accepted(room, viewer, rate):
    assert control(room, viewer, "rate", rate=rate).rate == rate


def test_an_unknown_action_is_refused(room, viewer):
    with pytest.raises(InvalidInput):
        control(room, viewer, "rewind", position=0.0)


def test_nobody_controls_a_closed_room(room, viewer):
    services.room_close(room_id=room.pk, reason="moderator")
    with pytest.raises(NotFound):
        control(room, viewer, "play", position=0.0)


def test_playing_on_past_the_end_never_reports_a_position_beyond_it(room, viewer):
    control(room, viewer, "play", position=110.0, now=T0)
    assert room_state(stored(room), now=T0 + 60).position == 120.0


@pytest.mark.parametrize("action", ["rate", "pause", "play"])
def test_a_control_after_playing_on_past_the_end_stores_the_end_not_beyond_it(room, viewer, action):
    # Found by the socket fuzzer (seed 2): a speed change stored 120.003 s of a 120 s video.
    control(room, viewer, "play", position=110.0, now=T0)
    new = control(room, viewer, action, rate=2.0 if action == "rate" else None, now=T0 + 60)
    assert new.position == 120.0
    assert stored(room).current_position == 120.0


# --- presence and the host's grace period -----------------------------------------------------


def connections_of(room, user) -> int:
    return RoomParticipant.objects.get(room=room, user=user).connections


def test_each_socket_is_counted_and_the_count_never_goes_below_zero(room, subscriber):
    services.participant_connected(room_id=room.pk, user=subscriber)
    services.participant_connected(room_id=room.pk, user=subscriber)
    assert connections_of(room, subscriber) == 2
    for _ in range(3):
        _, host_went_away = services.participant_disconnected(room_id=room.pk, user=subscriber)
        assert host_went_away is False
    assert connections_of(room, subscriber) == 0


def test_a_socket_of_someone_not_in_the_room_is_refused(room, stranger):
    with pytest.raises(NotAllowed):
        services.participant_connected(room_id=room.pk, user=stranger)


def test_the_host_losing_their_last_socket_pauses_playback_and_starts_the_grace(room, viewer):
    services.participant_connected(room_id=room.pk, user=viewer)
    services.participant_connected(room_id=room.pk, user=viewer)
    control(room, viewer, "play", position=10.0, now=T0)

    _, went_away = services.participant_disconnected(room_id=room.pk, user=viewer, now=T0 + 5)
    assert went_away is False  # another tab is still open
    assert stored(room).is_playing is True

    after, went_away = services.participant_disconnected(room_id=room.pk, user=viewer, now=T0 + 6)
    assert went_away is True
    row = stored(room)
    assert (row.is_playing, row.current_position, row.seq) == (False, pytest.approx(16.0), 2)
    assert row.host_disconnected_at.timestamp() == pytest.approx(T0 + 6)
    assert after.host_disconnected_at == row.host_disconnected_at


def test_a_guest_leaving_does_not_pause_anything(room, viewer, subscriber):
    services.participant_connected(room_id=room.pk, user=subscriber)
    control(room, viewer, "play", position=10.0, now=T0)
    _, went_away = services.participant_disconnected(room_id=room.pk, user=subscriber, now=T0 + 1)
    assert went_away is False
    assert stored(room).is_playing is True and stored(room).host_disconnected_at is None


def test_the_host_coming_back_in_time_keeps_the_room_open(room, viewer):
    services.participant_connected(room_id=room.pk, user=viewer)
    services.participant_disconnected(room_id=room.pk, user=viewer, now=T0)
    services.participant_connected(room_id=room.pk, user=viewer)
    assert stored(room).host_disconnected_at is None
    assert services.host_grace_expire(room_id=room.pk, now=T0 + 3600) is False
    assert stored(room).is_active is True


@override_settings(ROOM_HOST_GRACE_SECONDS=60)
def test_the_room_closes_once_the_host_has_been_gone_for_the_grace_period(
    room, viewer, django_capture_on_commit_callbacks
):
    services.participant_connected(room_id=room.pk, user=viewer)
    services.participant_disconnected(room_id=room.pk, user=viewer, now=T0)
    assert services.host_grace_expire(room_id=room.pk, now=T0 + 59) is False
    assert stored(room).is_active is True
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.host_grace_expire(room_id=room.pk, now=T0 + 60) is True
    row = stored(room)
    assert (row.is_active, row.close_reason) == (False, "host_timeout")
    assert len(callbacks) == 1  # room_closed, once
    assert services.host_grace_expire(room_id=room.pk, now=T0 + 120) is False


@override_settings(ROOM_HOST_GRACE_SECONDS=60)
def test_the_grace_check_leaves_a_room_whose_host_never_left_alone(room):
    assert services.host_grace_expire(room_id=room.pk, now=T0 + 10_000) is False
    assert stored(room).is_active is True


@override_settings(ROOM_HOST_GRACE_SECONDS=60)
def test_the_grace_check_takes_datetimes_too(room, viewer):
    services.participant_connected(room_id=room.pk, user=viewer)
    services.participant_disconnected(room_id=room.pk, user=viewer)
    gone_at = stored(room).host_disconnected_at
    assert services.host_grace_expire(room_id=room.pk, now=gone_at + timedelta(seconds=30)) is False
    assert services.host_grace_expire(room_id=room.pk, now=gone_at + timedelta(seconds=61)) is True


@override_settings(ROOM_HOST_GRACE_SECONDS=60)
def test_the_sweep_closes_every_room_whose_host_did_not_come_back(room, viewer, subscriber, video):
    other = services.room_create(user=subscriber, video_id=video.pk)
    for hosted, host in [(room, viewer), (other, subscriber)]:
        services.participant_connected(room_id=hosted.pk, user=host)
    services.participant_disconnected(room_id=room.pk, user=viewer, now=T0)
    services.participant_disconnected(room_id=other.pk, user=subscriber, now=T0 + 50)
    assert services.host_grace_expire_all(now=T0 + 70) == 1
    assert (stored(room).is_active, stored(other).is_active) == (False, True)


def test_a_disconnect_after_the_room_closed_only_counts_the_socket(room, viewer):
    services.participant_connected(room_id=room.pk, user=viewer)
    services.room_close(room_id=room.pk, reason="moderator")
    closed, went_away = services.participant_disconnected(room_id=room.pk, user=viewer)
    assert (went_away, closed.is_active, connections_of(room, viewer)) == (False, False, 0)


def test_a_missing_room_is_not_found(viewer):
    with pytest.raises(NotFound):
        services.playback_control(room_id=999_999, user=viewer, action="seek", position=1.0)


def statements_of(captured) -> list[str]:
    """The reads and writes a control made (not SQLite's write lock, which changes no row)."""
    return [
        query["sql"].strip()
        for query in captured.captured_queries
        if query["sql"].strip().startswith(("SELECT", "UPDATE", "WITH"))
        and "WHERE id = -1" not in query["sql"]
    ]


def test_a_control_reads_the_room_once_and_writes_it_once(room, viewer):
    # The hottest write of a room (docs/PERFORMANCE.md, fan-out): one read of what the rules
    # need and one UPDATE.
    with CaptureQueriesContext(connection) as captured:
        control(room, viewer, "seek", position=30.0)
    statements = statements_of(captured)
    assert len(statements) == 2
    assert statements[0].startswith("SELECT")
    assert "participant" in statements[0]  # presence is checked in the same read
    assert "UPDATE" in statements[1]


# A control reads the room's facts from the database, or takes those this process remembered of
# the controller's last control (`services._last_controls`); either can go stale before the
# store, which must then work the control out again or refuse it.
FACTS_FROM = ["read", "remembered"]


def between_facts_and_store(monkeypatch, facts_from: str, meanwhile, *, before: bool = False):
    if facts_from == "read":
        services._last_controls.clear()
        return on_first_read(monkeypatch, "_control_facts", meanwhile, before=before)
    return on_first_remembered(monkeypatch, meanwhile, before=before)


@pytest.mark.parametrize("facts_from", FACTS_FROM)
def test_a_control_that_lost_a_race_is_worked_out_again_from_the_state_that_won(
    room, viewer, monkeypatch, facts_from
):
    control(room, viewer, "play", position=10.0)
    # another controller stores a seek between this read and the store
    between_facts_and_store(
        monkeypatch,
        facts_from,
        lambda: control(room, viewer, "seek", position=100.0, now=T0 + 1),
    )
    state = control(room, viewer, "pause", now=T0 + 3)

    # The pause applies to the seek that won (100 s, playing for 2 s), not to the play it read.
    assert (state.seq, state.is_playing, state.position) == (3, False, pytest.approx(102.0))
    assert stored(room).seq == 3


@pytest.mark.parametrize("facts_from", FACTS_FROM)
def test_a_control_another_tab_stored_just_before_the_read_is_never_newer_than_this_one(
    room, viewer, monkeypatch, facts_from
):
    services.playback_control(room_id=room.pk, user=viewer, action="play", position=10.0)
    other_tab = between_facts_and_store(
        monkeypatch,
        facts_from,
        lambda: services.playback_control(
            room_id=room.pk, user=viewer, action="seek", position=100.0
        ),
        before=True,
    )
    state = services.playback_control(room_id=room.pk, user=viewer, action="pause")

    # The pause is worked out from the seek it read, at a time after it: never back before 100 s.
    seek = other_tab[0]
    assert state.seq == seek.seq + 1
    assert state.server_time >= seek.server_time
    assert state.position >= 100.0


@pytest.mark.parametrize("facts_from", FACTS_FROM)
@pytest.mark.parametrize(
    ("meanwhile", "refusal"),
    [("room_close", NotFound), ("room_leave", NotAllowed), ("guest_control_off", NotAllowed)],
)
def test_a_control_whose_facts_went_stale_as_the_room_closed_or_its_sender_left_is_not_stored(
    room, subscriber, monkeypatch, meanwhile, refusal, facts_from
):
    if facts_from == "read" and connection.vendor != "postgresql":
        # SQLite runs a control as one writer from read to store: nothing can come between.
        pytest.skip("a race between the read and the store needs PostgreSQL (CI's second run)")
    services.room_update(room_id=room.pk, actor=room.owner, guests_can_control=True)
    control(room, subscriber, "play", position=1.0)

    def close_or_leave() -> int:
        if meanwhile == "room_close":
            services.room_close(room_id=room.pk, reason="moderator")
        elif meanwhile == "room_leave":
            services.room_leave(room_id=room.pk, user=subscriber)
        else:
            services.room_update(room_id=room.pk, actor=room.owner, guests_can_control=False)
        return stored(room).seq

    if facts_from == "read":
        raced = between_facts_and_store(monkeypatch, facts_from, close_or_leave)
    else:
        # What this process remembered went stale between two controls (on SQLite, where a
        # control is one transaction, nothing can come between its steps).
        raced = [close_or_leave()]
    with pytest.raises(refusal):
        control(room, subscriber, "seek", position=2.0)
    assert stored(room).seq == raced[0]  # as the close, the leave or the host left it


def test_a_controllers_next_control_in_the_same_process_reads_nothing_before_its_store(
    room, viewer
):
    with CaptureQueriesContext(connection) as first:
        control(room, viewer, "play", position=10.0)
    with CaptureQueriesContext(connection) as second:
        control(room, viewer, "seek", position=50.0, now=T0 + 1)
    assert statements_of(first)[0].startswith("SELECT")  # the first reads the room's facts
    (store,) = statements_of(second)  # the next only stores
    assert "UPDATE" in store
    assert not store.startswith("SELECT")
    assert (stored(room).current_position, stored(room).seq) == (50.0, 2)


def test_facts_remembered_in_one_process_give_way_to_another_processs_control(
    room, viewer, subscriber
):
    """Another process (here: the guest, whose control does not touch what this process
    remembered of the host's) stored a control since: the host's next one applies to it."""
    services.room_update(room_id=room.pk, actor=viewer, guests_can_control=True)
    control(room, viewer, "play", position=10.0, now=T0)
    control(room, subscriber, "seek", position=80.0, now=T0 + 1)
    state = control(room, viewer, "pause", now=T0 + 3)
    assert (state.seq, state.is_playing, state.position) == (3, False, pytest.approx(82.0))


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_controls_commit_without_waiting_for_the_disk_and_chat_waits(
    room, viewer, subscriber, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("synchronous_commit is PostgreSQL's (CI's PostgreSQL run has it)")

    def wal_writes() -> int:
        # A commit that waits for the disk writes the WAL out itself (wal_write counts that
        # with fsync on or off). This connection's counters reach pg_stat_wal once a second,
        # or when forced.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_force_next_flush()")
            cursor.execute("SELECT wal_write FROM pg_stat_wal")
            return cursor.fetchone()[0]

    before = wal_writes()
    for second in range(100):
        control(room, viewer, "seek", position=float(second), now=T0 + second)
    controls = wal_writes() - before
    monkeypatch.setattr(services, "FLOOD_WINDOW", 1e-6)  # 100 messages in a row
    before = wal_writes()
    for number in range(100):
        services.chat_post(room_id=room.pk, user=subscriber, message=f"durable {number}")
    chat = wal_writes() - before
    # Each durable commit writes the WAL itself; quick ones leave it to the WAL writer (a
    # write every 200 ms at most). Measured: 1–3 for the controls, 100 for chat.
    assert controls < 30 < 90 <= chat
