"""Playback synchronisation maths, pure and with an injected clock (ROOM_PROTOCOL.md).

The server keeps one `PlaybackState` per room; every client derives the position now from it
and steers its player toward that target. static/js mirrors these functions, so the two sides
agree on what "in sync" means. Times are Unix seconds as floats; nothing here reads a clock,
so tests need no sleeps (the Syncplay / OpenTogetherTube `timestamp.ts` approach).
"""

from dataclasses import dataclass, replace

ACTIONS = ("play", "pause", "seek", "rate")

# Below this drift, correcting would be more visible than the drift itself.
DRIFT_TOLERANCE = 0.05
# Above this, a rate nudge would take too long to catch up: jump instead.
SEEK_THRESHOLD = 2.0
# A nudge never changes the speed by more than 5%: barely audible, and it catches up 2 s in 40 s.
NUDGE_MAX = 0.05
# Rate change per second of drift: full 5% from 0.2 s; smaller drifts get gentler nudges so
# the player does not overshoot between two checks.
NUDGE_GAIN = 0.25
CLOCK_SAMPLES = 8


@dataclass(frozen=True)
class PlaybackState:
    position: float  # seconds into the video, as of server_time
    is_playing: bool
    rate: float
    server_time: float  # Unix seconds (server clock) at which `position` was true
    seq: int  # grows with every change, so clients can drop stale or echoed events


@dataclass(frozen=True)
class Drift:
    action: str  # "none" | "nudge" | "seek"
    # Speed factor for the player, relative to the room's rate (the client sets
    # playbackRate = state.rate * rate): 1.0 for none/seek, 0.95–1.05 for a nudge.
    rate: float
    target: float  # where the player should be now


def current_position(state: PlaybackState, *, now: float, duration: float | None = None) -> float:
    """The position at `now`: advanced by the elapsed time × rate while playing."""
    position = state.position
    if state.is_playing:
        position += (now - state.server_time) * state.rate
    position = max(0.0, position)
    if duration is not None and duration > 0:
        position = min(position, duration)
    return position


def apply_control(
    state: PlaybackState,
    *,
    action: str,
    now: float,
    position: float | None = None,
    rate: float | None = None,
    duration: float | None = None,
) -> PlaybackState:
    """The state after a control action at `now`, rebased so `server_time` is `now`.

    play/pause/seek take the sender's `position` when given (what they see is what everyone
    gets), else the position now; `rate` keeps the position and changes the speed. A room
    that played on past the end is at the end (`duration`), not beyond it.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown playback action: {action!r}")
    now_at = current_position(state, now=now, duration=duration)
    at = now_at if position is None else max(0.0, position)
    new = replace(state, position=at, server_time=now, seq=state.seq + 1)
    if action == "play":
        return replace(new, is_playing=True)
    if action == "pause":
        return replace(new, is_playing=False)
    if action == "rate":
        if rate is None:
            raise ValueError("a rate action needs a rate")
        return replace(new, position=now_at, rate=rate)
    return new  # seek: same playing state, new position


def drift_decision(
    *,
    local_position: float,
    local_paused: bool,
    state: PlaybackState,
    now: float,
    settling_until: float = 0.0,
) -> Drift:
    """What a client should do about the gap between its player and the room's state."""
    target = current_position(state, now=now)
    if now < settling_until:
        # A seek just happened; the player's reported time is unreliable until it settles.
        return Drift("none", 1.0, target)
    if local_paused == state.is_playing:
        return Drift("seek", 1.0, target)
    drift = target - local_position  # > 0: the player is behind
    if abs(drift) < DRIFT_TOLERANCE:
        return Drift("none", 1.0, target)
    if abs(drift) > SEEK_THRESHOLD or not state.is_playing:
        # A paused player cannot catch up by speeding up.
        return Drift("seek", 1.0, target)
    correction = min(NUDGE_MAX, abs(drift) * NUDGE_GAIN)
    return Drift("nudge", 1.0 + correction if drift > 0 else 1.0 - correction, target)


# A seek of a playing video takes a moment (buffering, decoding) during which the room moves
# on: the player lands behind by that much, inside DRIFT_TOLERANCE's reach only slowly. The
# next hard seek aims that far ahead, by an average of the last seeks' durations; one
# outlier (a cold buffer) is capped so it cannot throw the next seek far off.
SEEK_LATENCY_WEIGHT = 0.5
SEEK_LATENCY_MAX = 1.0


def seek_latency_estimate(previous: float, measured: float) -> float:
    """The expected duration of the next seek, after one that took `measured` seconds."""
    measured = min(max(measured, 0.0), SEEK_LATENCY_MAX)
    if previous <= 0.0:
        return measured
    return previous + SEEK_LATENCY_WEIGHT * (measured - previous)


# A correcting seek of a playing player is made paused and released at a set moment, aimed
# at where the room will be then. A player that resumes whenever its seek is done lands off
# by how much that seek's duration differed from the estimate (± 40 ms for seeks of 20–100
# ms), inside DRIFT_TOLERANCE, where the protocol's rules leave it for good. Held for twice
# the expected duration, and never less than a seek into buffered media takes, most seeks
# are done before the release and land on the room's position; a slower one starts as soon
# as it is done, behind by its excess only.
SEEK_HOLD_FACTOR = 2.0
SEEK_HOLD_MIN = 0.12


def seek_hold(latency: float) -> float:
    """How long a playing player holds a correcting seek before it plays, given the expected
    duration of its seeks (`seek_latency_estimate`; 0 before one was measured)."""
    return min(max(SEEK_HOLD_FACTOR * latency, SEEK_HOLD_MIN), SEEK_LATENCY_MAX)


def clock_offset(samples: list[tuple[float, float, float]]) -> float:
    """server clock − client clock, NTP style, from (t0, server_time, t1) ping samples.

    Of the last few samples, the one with the smallest round trip bounds the error best
    (its uncertainty is half the round trip), so it alone is used.
    """
    recent = samples[-CLOCK_SAMPLES:]
    if not recent:
        return 0.0
    t0, server_time, t1 = min(recent, key=lambda sample: sample[2] - sample[0])
    return server_time - (t0 + t1) / 2
