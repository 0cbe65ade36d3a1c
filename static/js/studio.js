// "My channel": follow each own video through processing (a live progress bar until it is ready
// or failed) and re-queue a failed or stuck job. The page renders the first state itself; this
// module only carries it forward, from GET /api/videos/<id>/processing and the re-queue's answer.
import { apiRequest } from "./api.js";
import { followProcessing } from "./processing.js";

const STATUS_LABELS = { processing: "Processing", ready: "Ready", failed: "Failed" };

function part(row, name) {
  return row.querySelector(`[data-${name}]`);
}

function render(row, state, { live = false } = {}) {
  const previous = row.dataset.status;
  row.dataset.status = state.status;
  const badge = part(row, "status-badge");
  badge.className = `badge badge-${state.status}`;
  badge.textContent = STATUS_LABELS[state.status] || state.status;

  const processing = state.status === "processing";
  part(row, "progress").hidden = !processing;
  part(row, "progress").querySelector("progress").value = state.progress;
  part(row, "percent").textContent = `${state.progress}%`;
  part(row, "stalled").hidden = !(processing && state.stalled);
  const failure = part(row, "failure");
  failure.hidden = state.status !== "failed";
  if (state.status === "failed") failure.textContent = state.failure_reason || "Processing failed.";
  part(row, "requeue").hidden = !state.can_requeue;
  // Became ready while the owner watched: point at the result.
  part(row, "watch-link").hidden = !(live && previous === "processing" && state.status === "ready");
}

function follow(row) {
  if (row.stopFollowing) row.stopFollowing();
  row.stopFollowing = followProcessing(Number(row.dataset.videoId), (state, error) => {
    if (state) {
      render(row, state, { live: true });
    } else {
      showError(row, error.message);
    }
  });
}

function showError(row, message) {
  const error = part(row, "row-error");
  error.textContent = message;
  error.hidden = !message;
}

async function requeue(row, button) {
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  showError(row, "");
  try {
    const state = await apiRequest("POST", `/api/videos/${row.dataset.videoId}/requeue`);
    render(row, state);
    if (state.status === "processing") follow(row);
  } catch (failure) {
    showError(row, failure.message);
    // 409: the job moved on meanwhile (it finished, or came back to life); show where it is.
    if (failure.status === 409) follow(row);
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

for (const row of document.querySelectorAll(".video-table tr[data-video-id]")) {
  const button = part(row, "requeue");
  button.addEventListener("click", () => requeue(row, button));
  if (row.dataset.status === "processing") follow(row);
}
