// The watch page: the player (HLS or the original, scrub previews, quality menu), the
// pre-roll ad before the main video, the owner's processing note, the subscribe buttons, and
// "Watch together".
import { apiRequest } from "./api.js";
import { attachPlayback, mountQualityMenu, mountScrubBar } from "./player.js";
import { followProcessing } from "./processing.js";
import "./subscribe.js";

const player = document.getElementById("player");
const preroll = document.getElementById("preroll");
const tools = document.getElementById("player-tools");

function readJson(id) {
  const element = document.getElementById(id);
  if (!element) return null;
  try {
    return JSON.parse(element.textContent);
  } catch {
    return null;
  }
}

async function startPlayer() {
  const scrub = document.getElementById("scrub");
  if (scrub) mountScrubBar(scrub, player, { sprite: readJson("scrub-sprite") });
  // Attached at once, ad or not: hls.js buffers the first segments while the ad plays, and the
  // pre-roll's own "play" guard keeps the main video still until the ad is done.
  const playback = await attachPlayback(player, {
    hlsUrl: player.dataset.hlsUrl,
    streamUrl: player.dataset.streamUrl,
    preload: player.dataset.preload,
  });
  const quality = document.getElementById("quality");
  if (quality) mountQualityMenu(quality, playback);
}

function setupPreroll() {
  const media = document.getElementById("preroll-media");
  const skip = document.getElementById("preroll-skip");
  const start = document.getElementById("preroll-start");
  const isVideo = media instanceof HTMLVideoElement;
  let remaining = Number(preroll.dataset.skipAfter || 5);
  let finished = false;
  let timer = null;
  let imageTimer = null;

  const finish = () => {
    if (finished) return;
    finished = true;
    clearInterval(timer);
    clearTimeout(imageTimer);
    if (isVideo) media.pause();
    preroll.hidden = true;
    if (tools) tools.inert = false;
    player.focus();
    // With a click (skip) the browser lets the main video start with sound; after a video
    // ad ended on its own it may refuse, and then the viewer presses play themselves.
    const playing = player.play();
    if (playing) playing.catch(() => {});
  };

  const tick = () => {
    remaining -= 1;
    if (remaining > 0) {
      skip.textContent = `Skip in ${remaining}…`;
      return;
    }
    clearInterval(timer);
    skip.disabled = false;
    skip.textContent = "Skip ad ⏭";
  };

  const startCountdown = () => {
    if (timer !== null) return;
    skip.textContent = `Skip in ${remaining}…`;
    timer = setInterval(tick, 1000);
  };

  // Shown by this script, so without scripts the video simply plays without the ad.
  preroll.hidden = false;
  if (tools) tools.inert = true;
  // The main video cannot start underneath the ad, even from the keyboard.
  player.addEventListener("play", () => {
    if (!finished) player.pause();
  });
  skip.addEventListener("click", () => finish());

  if (isVideo) {
    media.muted = true;
    media.addEventListener("playing", startCountdown);
    media.addEventListener("ended", () => finish());
    media.addEventListener("error", () => finish());
    const attempt = media.play();
    if (attempt) {
      attempt.catch(() => {
        start.hidden = false;
      });
    }
    start.addEventListener("click", () => {
      start.hidden = true;
      media.play().catch(() => finish());
    });
  } else {
    startCountdown();
    imageTimer = setTimeout(() => finish(), Number(preroll.dataset.imageSeconds || 8) * 1000);
  }
}

if (player && preroll) setupPreroll();
if (player) startPlayer();

// The owner previews the original of a video still processing: say how far the other
// qualities are, and offer a reload once they are ready.
const note = document.getElementById("processing-note");

function showProcessing(state) {
  const text = document.getElementById("processing-note-text");
  const link = document.getElementById("processing-note-reload");
  if (state === null) return;
  if (state.status === "processing") {
    document.getElementById("processing-note-percent").textContent = `${state.progress}%`;
    return;
  }
  note.dataset.state = state.status;
  if (state.status === "ready") {
    text.textContent = "Every quality is ready.";
    link.textContent = "Reload to watch";
  } else {
    const reason = state.failure_reason || "the file could not be read.";
    text.textContent = `Processing failed: ${reason}`;
    link.textContent = "Open My channel";
    link.href = "/studio";
  }
  link.hidden = false;
}

if (note) followProcessing(Number(note.dataset.videoId), showProcessing);

// "Watch together": open a room on this video (POST /api/rooms) and go to it.
const watchTogether = document.getElementById("watch-together");

async function startRoom() {
  const error = document.getElementById("watch-together-error");
  watchTogether.disabled = true;
  watchTogether.setAttribute("aria-busy", "true");
  error.hidden = true;
  try {
    const room = await apiRequest("POST", "/api/rooms", {
      video_id: Number(watchTogether.dataset.videoId),
    });
    window.location.assign(`/rooms/${room.id}`);
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
    watchTogether.disabled = false;
    watchTogether.removeAttribute("aria-busy");
  }
}

if (watchTogether) watchTogether.addEventListener("click", startRoom);
