// Playback synchronisation maths for the room page: pure functions, clock passed in.
// Mirrors rooms/sync.py line for line (ROOM_PROTOCOL.md "Client sync"), so the server and the
// browser agree on what "in sync" means. Times are seconds as floats.

// Below this drift, correcting would be more visible than the drift itself.
export const DRIFT_TOLERANCE = 0.05;
// Above this, a rate nudge would take too long to catch up: jump instead.
export const SEEK_THRESHOLD = 2.0;
// A nudge never changes the speed by more than 5%.
export const NUDGE_MAX = 0.05;
// Rate change per second of drift (full 5% from 0.2 s), so small drifts do not overshoot.
export const NUDGE_GAIN = 0.25;
export const CLOCK_SAMPLES = 8;
// After a hard seek the player's reported time is unreliable for a moment.
export const SETTLE_SECONDS = 1.5;

// state: {position, is_playing, rate, server_time, seq}
export function currentPosition(state, now, duration = null) {
  let position = state.position;
  if (state.is_playing) position += (now - state.server_time) * state.rate;
  position = Math.max(0, position);
  if (duration !== null && duration !== undefined && duration > 0) {
    position = Math.min(position, duration);
  }
  return position;
}

// {action: "none"|"nudge"|"seek", rate: factor relative to state.rate, target: seconds}
export function driftDecision({ localPosition, localPaused, state, now, settlingUntil = 0 }) {
  const target = currentPosition(state, now);
  if (now < settlingUntil) return { action: "none", rate: 1.0, target };
  if (localPaused === state.is_playing) return { action: "seek", rate: 1.0, target };
  const drift = target - localPosition; // > 0: the player is behind
  if (Math.abs(drift) < DRIFT_TOLERANCE) return { action: "none", rate: 1.0, target };
  // A paused player cannot catch up by speeding up.
  if (Math.abs(drift) > SEEK_THRESHOLD || !state.is_playing) {
    return { action: "seek", rate: 1.0, target };
  }
  const correction = Math.min(NUDGE_MAX, Math.abs(drift) * NUDGE_GAIN);
  return { action: "nudge", rate: drift > 0 ? 1.0 + correction : 1.0 - correction, target };
}

// A seek of a playing video takes a moment during which the room moves on: the next hard seek
// aims that far ahead, by an average of the last seeks' durations, one outlier capped.
export const SEEK_LATENCY_WEIGHT = 0.5;
export const SEEK_LATENCY_MAX = 1.0;

// The expected duration of the next seek, after one that took `measured` seconds.
export function seekLatencyEstimate(previous, measured) {
  const clamped = Math.min(Math.max(measured, 0), SEEK_LATENCY_MAX);
  if (previous <= 0) return clamped;
  return previous + SEEK_LATENCY_WEIGHT * (clamped - previous);
}

// A correcting seek of a playing player is made paused and released at a set moment, aimed at
// where the room will be then: held for twice the expected seek, and never less than a seek
// into buffered media takes, most seeks are done by then and land on the room's position
// instead of off by their duration's variation.
export const SEEK_HOLD_FACTOR = 2.0;
export const SEEK_HOLD_MIN = 0.12;

// How long a playing player holds a correcting seek before it plays, given the expected
// duration of its seeks (0 before one was measured).
export function seekHold(latency) {
  return Math.min(Math.max(SEEK_HOLD_FACTOR * latency, SEEK_HOLD_MIN), SEEK_LATENCY_MAX);
}

// server clock − client clock from [t0, serverTime, t1] ping samples, NTP style: the sample
// with the smallest round trip of the last 8 bounds the error best, so it alone is used.
export function clockOffset(samples) {
  const recent = samples.slice(-CLOCK_SAMPLES);
  if (recent.length === 0) return 0.0;
  let best = recent[0];
  for (const sample of recent) {
    if (sample[2] - sample[0] < best[2] - best[0]) best = sample;
  }
  const [t0, serverTime, t1] = best;
  return serverTime - (t0 + t1) / 2;
}

// The state after a control action at `now`, as the server will compute it; used for the
// controller's own optimistic view until the server's state with the new seq arrives.
export function applyControl(state, { action, now, position = null, rate = null }) {
  const at = position === null ? currentPosition(state, now) : Math.max(0, position);
  const next = { ...state, position: at, server_time: now };
  if (action === "play") return { ...next, is_playing: true };
  if (action === "pause") return { ...next, is_playing: false };
  if (action === "rate") return { ...next, position: currentPosition(state, now), rate };
  return next;
}
