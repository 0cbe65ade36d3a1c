"""rooms.sync: the playback maths every client and the server share, with a fake clock."""

import pytest

from rooms.sync import (
    Drift,
    PlaybackState,
    apply_control,
    clock_offset,
    current_position,
    drift_decision,
    seek_hold,
    seek_latency_estimate,
)

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


class FakeClock:
    """Seconds since T0, advanced by hand: no sleeps, no wall clock."""

    def __init__(self) -> None:
        self.now = T0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def state(**overrides) -> PlaybackState:
    fields = {"position": 10.0, "is_playing": True, "rate": 1.0, "server_time": T0, "seq": 4}
    return PlaybackState(**{**fields, **overrides})


# --- current_position -------------------------------------------------------------------------


def test_a_playing_state_advances_with_the_clock(clock):
    assert current_position(state(), now=clock.advance(2.5)) == pytest.approx(12.5)


def test_a_paused_state_stays_where_it_was(clock):
    assert current_position(state(is_playing=False), now=clock.advance(30)) == 10.0


def test_at_rate_two_the_position_advances_twice_as_fast(clock):
    assert current_position(state(rate=2.0), now=clock.advance(3)) == pytest.approx(16.0)


def test_the_position_never_passes_the_end_of_the_video(clock):
    assert current_position(state(), now=clock.advance(100), duration=42.0) == 42.0


def test_without_a_duration_the_position_keeps_growing(clock):
    assert current_position(state(), now=clock.advance(100)) == pytest.approx(110.0)


def test_the_position_is_never_negative(clock):
    before_the_state = state(position=0.5, server_time=T0 + 2)
    assert current_position(before_the_state, now=clock.now, duration=10.0) == 0.0


# --- apply_control ----------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["play", "pause", "seek"])
def test_each_control_increments_seq_and_rebases_at_now(clock, action):
    now = clock.advance(4)
    new = apply_control(state(), action=action, now=now, position=20.0)
    assert new.seq == 5
    assert new.server_time == now
    assert new.position == 20.0


def test_play_starts_playback_from_the_given_position(clock):
    new = apply_control(state(is_playing=False), action="play", now=clock.advance(1), position=3)
    assert new.is_playing is True
    assert current_position(new, now=clock.advance(2)) == pytest.approx(5.0)


def test_pause_stops_where_the_sender_was(clock):
    new = apply_control(state(), action="pause", now=clock.advance(5), position=14.8)
    assert new.is_playing is False
    assert current_position(new, now=clock.advance(60)) == 14.8


def test_pause_without_a_position_freezes_the_position_now(clock):
    new = apply_control(state(), action="pause", now=clock.advance(5))
    assert (new.position, new.is_playing, new.seq) == (pytest.approx(15.0), False, 5)


def test_seek_keeps_the_playing_state(clock):
    playing = apply_control(state(), action="seek", now=clock.advance(1), position=30)
    paused = apply_control(state(is_playing=False), action="seek", now=clock.now, position=30)
    assert playing.is_playing is True and paused.is_playing is False


def test_rate_changes_the_speed_from_the_position_now(clock):
    new = apply_control(state(), action="rate", now=clock.advance(2), rate=2.0)
    assert (new.position, new.rate, new.seq, new.server_time) == (
        pytest.approx(12.0),
        2.0,
        5,
        clock.now,
    )
    assert current_position(new, now=clock.advance(1)) == pytest.approx(14.0)


@pytest.mark.parametrize("action", ["rate", "pause", "play"])
def test_a_control_past_the_end_of_the_video_keeps_the_position_at_the_end(clock, action):
    rate = 2.0 if action == "rate" else None
    new = apply_control(state(), action=action, now=clock.advance(60), rate=rate, duration=30.0)
    assert new.position == 30.0


def test_an_unknown_action_is_refused(clock):
    with pytest.raises(ValueError, match="unknown playback action"):
        apply_control(state(), action="rewind", now=clock.now)


def test_a_rate_action_without_a_rate_is_refused(clock):
    with pytest.raises(ValueError, match="needs a rate"):
        apply_control(state(), action="rate", now=clock.now)


def test_the_original_state_is_not_changed(clock):
    original = state()
    apply_control(original, action="pause", now=clock.advance(3))
    assert original == state()


# --- drift_decision ---------------------------------------------------------------------------


def decide(clock, *, local: float, paused: bool = False, **kwargs) -> Drift:
    return drift_decision(
        local_position=local, local_paused=paused, state=state(), now=clock.now, **kwargs
    )


def test_a_drift_under_fifty_milliseconds_needs_nothing(clock):
    clock.advance(2)  # target 12.0
    assert decide(clock, local=12.049) == Drift("none", 1.0, pytest.approx(12.0))
    assert decide(clock, local=11.951).action == "none"


def test_a_player_sixty_milliseconds_behind_speeds_up_a_little(clock):
    clock.advance(2)
    drift = decide(clock, local=11.94)
    assert drift.action == "nudge"
    assert 1.0 < drift.rate <= 1.05
    assert drift.target == pytest.approx(12.0)


def test_a_player_sixty_milliseconds_ahead_slows_down_a_little(clock):
    clock.advance(2)
    drift = decide(clock, local=12.06)
    assert drift.action == "nudge"
    assert 0.95 <= drift.rate < 1.0


def test_a_bigger_drift_gets_a_bigger_nudge(clock):
    clock.advance(2)
    assert decide(clock, local=11.9).rate > decide(clock, local=11.94).rate


def test_the_nudge_is_capped_at_five_percent(clock):
    clock.advance(2)
    assert decide(clock, local=10.5).rate == pytest.approx(1.05)
    assert decide(clock, local=13.5).rate == pytest.approx(0.95)


def test_a_drift_of_two_and_a_half_seconds_is_a_hard_seek(clock):
    clock.advance(2)
    assert decide(clock, local=9.5) == Drift("seek", 1.0, pytest.approx(12.0))
    assert decide(clock, local=14.5).action == "seek"


def test_a_paused_player_in_a_playing_room_seeks(clock):
    clock.advance(2)
    assert decide(clock, local=12.0, paused=True).action == "seek"


def test_a_playing_player_in_a_paused_room_seeks(clock):
    paused_room = state(is_playing=False)
    drift = drift_decision(local_position=10.0, local_paused=False, state=paused_room, now=T0 + 3)
    assert (drift.action, drift.target) == ("seek", 10.0)


def test_a_paused_player_off_a_paused_room_seeks_rather_than_nudges(clock):
    paused_room = state(is_playing=False)
    drift = drift_decision(local_position=10.3, local_paused=True, state=paused_room, now=T0 + 3)
    assert drift.action == "seek"


def test_nothing_is_done_while_a_seek_settles(clock):
    clock.advance(2)
    assert decide(clock, local=5.0, settling_until=clock.now + 1.5).action == "none"
    assert decide(clock, local=5.0, settling_until=clock.now).action == "seek"


# --- clock_offset -----------------------------------------------------------------------------


def test_the_offset_is_the_server_time_minus_the_round_trip_midpoint():
    assert clock_offset([(100.0, 250.5, 101.0)]) == pytest.approx(150.0)


def test_the_sample_with_the_smallest_round_trip_wins():
    samples = [
        (100.0, 160.0, 100.8),  # rtt 0.8 → offset 59.6
        (110.0, 170.1, 110.1),  # rtt 0.1 → offset 60.05
        (120.0, 181.0, 120.5),  # rtt 0.5 → offset 60.75
    ]
    assert clock_offset(samples) == pytest.approx(60.05)


def test_only_the_last_eight_samples_count():
    best_but_old = (0.0, 60.0, 0.01)
    recent = [(10.0 + i, 80.0 + i + 0.5, 11.0 + i) for i in range(8)]  # rtt 1.0, offset 70
    assert clock_offset([best_but_old, *recent]) == pytest.approx(70.0)


def test_no_samples_means_no_offset():
    assert clock_offset([]) == 0.0


# --- seek_latency_estimate ----------------------------------------------------------------------


def test_the_first_seek_measured_is_the_estimate():
    assert seek_latency_estimate(0.0, 0.08) == pytest.approx(0.08)


def test_later_seeks_move_the_estimate_halfway():
    assert seek_latency_estimate(0.08, 0.04) == pytest.approx(0.06)
    assert seek_latency_estimate(0.06, 0.10) == pytest.approx(0.08)


def test_a_seek_slower_than_a_second_counts_as_one_second():
    # A cold buffer after a long jump must not make the next seek aim seconds ahead.
    assert seek_latency_estimate(0.0, 7.5) == pytest.approx(1.0)
    assert seek_latency_estimate(0.1, 7.5) == pytest.approx(0.55)


def test_a_negative_measurement_counts_as_zero():
    assert seek_latency_estimate(0.2, -0.5) == pytest.approx(0.1)


# --- seek_hold -----------------------------------------------------------------------------------


def test_before_any_seek_was_measured_a_seek_is_held_as_long_as_a_buffered_one_takes():
    assert seek_hold(0.0) == pytest.approx(0.12)


def test_a_seek_is_held_for_twice_the_expected_seek():
    assert seek_hold(0.08) == pytest.approx(0.16)


def test_the_hold_is_never_shorter_than_a_buffered_seek_nor_longer_than_a_second():
    assert seek_hold(0.03) == pytest.approx(0.12)
    assert seek_hold(0.8) == pytest.approx(1.0)
    assert seek_hold(-0.1) == pytest.approx(0.12)
