// Following a video's processing job (GET /api/videos/<id>/processing, owner and staff only)
// until it ends: used by "My channel" and by the owner's preview on the watch page.
import { apiRequest } from "./api.js";

export const POLL_MS = 2000;
const MAX_BACKOFF_MS = 30000;
// The caller lost access (signed out, the video was deleted): asking again will not help.
const FINAL_STATUSES = new Set([401, 403, 404]);

export function processingUrl(videoId) {
  return `/api/videos/${videoId}/processing`;
}

// Calls `onState(state)` after each answer while the job runs and once more when it ends
// (status "ready" or "failed"), or `onState(null, error)` when the answer will not come.
// Returns a function that stops following.
export function followProcessing(videoId, onState, { interval = POLL_MS } = {}) {
  let timer = null;
  let stopped = false;
  let failures = 0;

  const stop = () => {
    stopped = true;
    clearTimeout(timer);
  };
  const schedule = (delay) => {
    if (!stopped) timer = setTimeout(poll, delay);
  };

  async function poll() {
    let state;
    try {
      state = await apiRequest("GET", processingUrl(videoId));
    } catch (error) {
      if (stopped) return;
      if (FINAL_STATUSES.has(error.status)) {
        stop();
        onState(null, error);
        return;
      }
      // A blip (server restarting, network change): keep asking, less and less often.
      failures += 1;
      schedule(Math.min(interval * 2 ** failures, MAX_BACKOFF_MS));
      return;
    }
    if (stopped) return;
    failures = 0;
    if (state.status !== "processing") stop();
    onState(state);
    schedule(interval);
  }

  schedule(interval);
  return stop;
}
