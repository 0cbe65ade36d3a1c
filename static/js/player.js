// Playing one <video> from the best source the browser takes: hls.js over Media Source
// Extensions, else the browser's own HLS (iOS Safari without MSE), else the original file
// (`/stream`), which is also what plays while the HLS ladder is still being made. The watch page
// adds a scrub bar with sprite previews and a quality menu; the room page only attaches the
// source (its sync code reads and sets currentTime, paused and playbackRate, which behave the
// same whichever engine feeds the element).

// Loaded only when a page has HLS to play on a browser with MSE. The ESM build has no inline
// worker; its transmuxer worker is a file of its own, which `script-src 'self'` allows.
const HLS_BUILD = new URL("../vendor/hls.js-1.7.4/hls.min.mjs", import.meta.url).href;
const HLS_WORKER = new URL("../vendor/hls.js-1.7.4/hls.worker.js", import.meta.url).href;
const HLS_MIME = "application/vnd.apple.mpegurl";
const SEEK_STEP = 5;
const SPRITE_KEYS = ["interval", "count", "columns", "rows", "tile_width", "tile_height"];

export function formatTime(seconds) {
  const total = Math.max(0, Math.floor(Number(seconds) || 0));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const secs = String(total % 60).padStart(2, "0");
  return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
}

// Which engine feeds the element ("hls", "native" or "stream", also in the element's
// data-engine), and with hls.js the renditions, the viewer's choice and what plays now.
// Fires "change" whenever any of that changes.
export class Playback extends EventTarget {
  constructor(video) {
    super();
    this.video = video;
    this.engine = "";
    this.levels = []; // [{index, name, height}], highest first; hls.js only
    this.choice = "auto"; // "auto" or a rendition name
    this.rendition = ""; // the rendition playing now
    this.hls = null;
  }

  setEngine(engine) {
    this.engine = engine;
    this.video.dataset.engine = engine;
    this.changed();
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  choose(choice) {
    if (!this.hls) return;
    if (choice === "auto") {
      this.choice = "auto";
      // From the next segment on: no flush, no stall.
      this.hls.nextLevel = -1;
    } else {
      const level = this.levels.find((candidate) => candidate.name === choice);
      if (!level) return;
      this.choice = level.name;
      // Right away: the viewer asked to see this quality now, not in a few segments.
      this.hls.currentLevel = level.index;
    }
    this.changed();
  }

  destroy() {
    if (this.hls) {
      this.hls.destroy();
      this.hls = null;
    }
  }
}

// Point the element at `url`, keeping its position and whether it was playing (the viewer may
// have pressed play on the original before the script chose another source).
function switchSource(video, url, preload) {
  video.preload = preload;
  if (video.getAttribute("src") === url) return;
  const at = video.currentTime;
  const playing = !video.paused && !video.ended;
  video.src = url;
  resume(video, at, playing);
}

function resume(video, at, playing) {
  if (at > 0) {
    video.addEventListener(
      "loadedmetadata",
      () => {
        video.currentTime = at;
      },
      { once: true },
    );
  }
  if (playing) video.play().catch(() => {});
}

function levelName(level, index) {
  if (level.height) return `${level.height}p`;
  return level.name || `Level ${index + 1}`;
}

async function loadHls() {
  if (!("MediaSource" in window || "ManagedMediaSource" in window)) return null;
  try {
    const { default: Hls } = await import(HLS_BUILD);
    return Hls.isSupported() ? Hls : null;
  } catch {
    return null;
  }
}

function startHls(Hls, playback, hlsUrl, preload, fallBack) {
  const { video } = playback;
  const at = video.currentTime;
  const playing = !video.paused && !video.ended;
  const hls = new Hls({
    workerPath: HLS_WORKER,
    capLevelToPlayerSize: true,
    startPosition: at > 0 ? at : -1,
  });
  playback.hls = hls;
  let recoveredMedia = false;
  hls.on(Hls.Events.MANIFEST_PARSED, () => {
    playback.levels = hls.levels
      .map((level, index) => ({ index, height: level.height || 0, name: levelName(level, index) }))
      .sort((a, b) => b.height - a.height || b.index - a.index);
    playback.changed();
  });
  hls.on(Hls.Events.LEVEL_SWITCHED, (_event, data) => {
    const level = playback.levels.find((candidate) => candidate.index === data.level);
    playback.rendition = level ? level.name : "";
    video.dataset.rendition = playback.rendition;
    playback.changed();
  });
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    // A decode hiccup is worth one recovery; anything else (playlists or segments out of
    // reach, a codec MSE refuses) gets the original file instead.
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && !recoveredMedia) {
      recoveredMedia = true;
      hls.recoverMediaError();
      return;
    }
    fallBack();
  });
  video.preload = preload;
  hls.loadSource(hlsUrl);
  hls.attachMedia(video);
  if (playing) video.play().catch(() => {});
  playback.setEngine("hls");
}

// Attach the best source to `video`. `preload` is what the element should use with a source
// the browser loads itself (the page may have set "none" to keep the original from loading
// before this decision).
export async function attachPlayback(video, options = {}) {
  const { hlsUrl = "", streamUrl = "", preload = "metadata" } = options;
  const playback = new Playback(video);
  const useStream = () => {
    const at = video.currentTime;
    const playing = !video.paused && !video.ended;
    playback.destroy();
    playback.levels = [];
    playback.rendition = "";
    delete video.dataset.rendition;
    if (!streamUrl) return;
    video.preload = preload;
    video.src = streamUrl;
    resume(video, at, playing);
    playback.setEngine("stream");
  };

  const Hls = hlsUrl ? await loadHls() : null;
  if (Hls) {
    startHls(Hls, playback, hlsUrl, preload, useStream);
  } else if (hlsUrl && video.canPlayType(HLS_MIME)) {
    switchSource(video, hlsUrl, preload);
    video.addEventListener(
      "error",
      () => {
        if (playback.engine === "native") useStream();
      },
      { once: true },
    );
    playback.setEngine("native");
  } else if (streamUrl) {
    switchSource(video, streamUrl, preload);
    playback.setEngine("stream");
  }
  return playback;
}

// The quality menu: Auto plus every rendition hls.js can play, shown only when there is a
// choice to make (hls.js with two renditions or more; native HLS picks for itself).
export function mountQualityMenu(wrap, playback) {
  const select = wrap.querySelector("select");
  const auto = select.querySelector('option[value="auto"]');
  let listed = "";
  const render = () => {
    const names = playback.levels.map((level) => level.name);
    if (names.length && names.join() !== listed) {
      listed = names.join();
      const options = names.map((name) => new Option(name, name));
      select.replaceChildren(auto, ...options);
    }
    wrap.hidden = playback.engine !== "hls" || names.length < 2;
    auto.textContent =
      playback.choice === "auto" && playback.rendition ? `Auto (${playback.rendition})` : "Auto";
    select.value = playback.choice;
  };
  select.addEventListener("change", () => playback.choose(select.value));
  playback.addEventListener("change", render);
  render();
}

function validSprite(sprite) {
  return (
    sprite !== null &&
    typeof sprite === "object" &&
    SPRITE_KEYS.every((key) => Number.isFinite(sprite[key]) && sprite[key] > 0)
  );
}

// A slim seek bar under the video. Hovering (or dragging) shows the time there and, when the
// video has a sprite, the frame from it: tile n covers [n·interval, (n+1)·interval).
export function mountScrubBar(bar, video, { sprite = null } = {}) {
  const played = bar.querySelector(".scrub-played");
  const buffered = bar.querySelector(".scrub-buffered");
  const preview = bar.querySelector(".scrub-preview");
  const frame = bar.querySelector(".scrub-frame");
  const stamp = bar.querySelector(".scrub-time");
  const pageDuration = Number(bar.dataset.duration) || 0;
  const spriteUrl = bar.dataset.spriteUrl || "";
  const tiles = spriteUrl && validSprite(sprite) ? sprite : null;
  let spriteRequested = false;
  let dragging = false;
  let dragFraction = 0;

  const duration = () =>
    Number.isFinite(video.duration) && video.duration > 0 ? video.duration : pageDuration;

  if (tiles) {
    frame.style.width = `${tiles.tile_width}px`;
    frame.style.height = `${tiles.tile_height}px`;
    frame.style.backgroundImage = `url(${JSON.stringify(spriteUrl)})`;
    const sheetWidth = tiles.columns * tiles.tile_width;
    frame.style.backgroundSize = `${sheetWidth}px ${tiles.rows * tiles.tile_height}px`;
  } else {
    frame.hidden = true;
  }

  function requestSprite() {
    // Fetched on the first hover, not with the page: most viewers never scrub.
    if (!tiles || spriteRequested) return;
    spriteRequested = true;
    new Image().src = spriteUrl;
  }

  function fractionAt(event) {
    const rect = bar.getBoundingClientRect();
    if (!rect.width) return 0;
    return Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
  }

  function showPreview(fraction) {
    const total = duration();
    if (!total) {
      preview.hidden = true;
      return;
    }
    const time = fraction * total;
    stamp.textContent = formatTime(time);
    if (tiles) {
      const index = Math.min(tiles.count - 1, Math.floor(time / tiles.interval));
      const column = index % tiles.columns;
      const row = Math.floor(index / tiles.columns);
      const x = -column * tiles.tile_width;
      frame.style.backgroundPosition = `${x}px ${-row * tiles.tile_height}px`;
    }
    preview.hidden = false;
    // Kept within the bar, so the preview never spills out of the player's column.
    const width = bar.clientWidth;
    const half = preview.offsetWidth / 2;
    const x = Math.min(Math.max(fraction * width, half), Math.max(half, width - half));
    preview.style.left = `${x}px`;
  }

  function render() {
    const total = duration();
    const current = dragging ? dragFraction * total : video.currentTime;
    played.style.transform = `scaleX(${total ? Math.min(1, current / total) : 0})`;
    let end = 0;
    for (let i = 0; i < video.buffered.length; i += 1) {
      if (video.buffered.start(i) <= video.currentTime + 0.5) {
        end = Math.max(end, video.buffered.end(i));
      }
    }
    buffered.style.transform = `scaleX(${total ? Math.min(1, end / total) : 0})`;
    bar.setAttribute("aria-valuemax", String(Math.round(total)));
    bar.setAttribute("aria-valuenow", String(Math.round(current)));
    bar.setAttribute("aria-valuetext", `${formatTime(current)} of ${formatTime(total)}`);
  }

  function seekTo(seconds) {
    const total = duration();
    if (!total) return;
    video.currentTime = Math.min(total, Math.max(0, seconds));
  }

  function release(event, commit) {
    if (!dragging) return;
    dragging = false;
    bar.classList.remove("is-dragging");
    if (commit) seekTo(fractionAt(event) * duration());
    if (event.pointerType !== "mouse") preview.hidden = true;
    render();
  }

  bar.addEventListener("pointerenter", requestSprite);
  bar.addEventListener("pointermove", (event) => {
    const fraction = fractionAt(event);
    if (dragging) {
      dragFraction = fraction;
      render();
    }
    showPreview(fraction);
  });
  bar.addEventListener("pointerleave", () => {
    if (!dragging) preview.hidden = true;
  });
  bar.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    requestSprite();
    dragging = true;
    dragFraction = fractionAt(event);
    bar.setPointerCapture(event.pointerId);
    bar.classList.add("is-dragging");
    bar.focus({ preventScroll: true });
    showPreview(dragFraction);
    render();
  });
  bar.addEventListener("pointerup", (event) => release(event, true));
  bar.addEventListener("pointercancel", (event) => release(event, false));
  bar.addEventListener("keydown", (event) => {
    const total = duration();
    const steps = {
      ArrowLeft: -SEEK_STEP,
      ArrowDown: -SEEK_STEP,
      ArrowRight: SEEK_STEP,
      ArrowUp: SEEK_STEP,
      PageDown: -total / 10,
      PageUp: total / 10,
    };
    let target = null;
    if (event.key in steps) target = video.currentTime + steps[event.key];
    else if (event.key === "Home") target = 0;
    else if (event.key === "End") target = total;
    if (target === null || !total) return;
    event.preventDefault();
    seekTo(target);
  });
  for (const type of ["timeupdate", "progress", "durationchange", "seeking", "emptied"]) {
    video.addEventListener(type, render);
  }
  render();
}
