// The watch-room page: one WebSocket to /ws/rooms/<id>/ (session cookie), the player kept in
// sync with the room's playback state (ROOM_PROTOCOL.md "Client sync"), the chat, the people
// in the room, and the host's settings. The sync maths lives in room_sync.js (mirrors
// rooms/sync.py); this module wires it to the <video> element and the socket.
import { apiRequest } from "./api.js";
import { attachPlayback } from "./player.js";
import {
  applyControl,
  clockOffset,
  currentPosition,
  driftDecision,
  seekHold,
  seekLatencyEstimate,
  CLOCK_SAMPLES,
  DRIFT_TOLERANCE,
  SEEK_THRESHOLD,
  SETTLE_SECONDS,
} from "./room_sync.js";

const TICK_MS = 250;
const SYNC_REQUEST_MS = 5000;
const PING_MS = 30000;
const JOIN_PINGS = 3;
const JOIN_PING_SPACING_MS = 400;
const TYPING_SEND_MS = 1000;
const TYPING_SHOW_MS = 3000;
const NOTICE_MS = 6000;
const RECONNECT_MIN_S = 0.5;
const RECONNECT_MAX_S = 10;
// A control frame's effect should come back (as a state with a newer seq) well within this.
const PENDING_CONTROL_S = 3;
// A seek event or a fresh room_state further than this from the player is applied by seeking.
const SEEK_EVENT_TOLERANCE = 0.25;
// A programmatic seek landing this close to its target is ours, not the user's.
const OWN_SEEK_TOLERANCE = 0.5;
// A held seek whose `seeked` never comes (the media failed) is released this long after its
// moment, so the player cannot stay paused in a playing room.
const HOLD_GIVE_UP_MS = 2000;
// Closer than this to the end, a playing room has reached the end: no restart from zero.
const END_MARGIN = 0.25;
const CONTROL_TYPES = new Set(["play", "pause", "seek", "rate"]);

const CLOSED_MESSAGES = {
  host_left: "The host ended the room.",
  moderator: "A moderator closed this room.",
  host_timeout: "The host left and did not come back in time.",
};

const ENDINGS = {
  kicked: [
    "You were removed from this room",
    "The host removed you from this room, so you cannot join it again.",
  ],
  closed: ["This room has closed", "This room is no longer open."],
  full: ["This room is full", "Every seat is taken. Try again later, or start a room of your own."],
  forbidden: [
    "You can't join this room",
    "You may not watch this video, or the room is private and you have no invitation.",
  ],
  notfound: ["Room not found", "This room does not exist, or it has closed."],
  signin: ["Sign in again", "Your session has ended: sign in to rejoin the room."],
  left: ["You left this room", "You left the room from another tab or device."],
};

const root = document.getElementById("room");
if (root) startRoom(root);

function startRoom(root) {
  const ROOM_ID = Number(root.dataset.roomId);
  const ME = Number(root.dataset.userId);
  const IS_STAFF = root.dataset.isStaff === "true";
  const el = (id) => document.getElementById(id);

  const video = el("room-player");
  const layout = el("room-layout");
  const banner = el("room-banner");
  const bannerText = el("room-banner-text");
  const notice = el("room-notice");
  const gestureButton = el("room-gesture");
  const unmuteButton = el("room-unmute");
  const chatLog = el("chat-log");
  const chatEmpty = el("chat-empty");
  const chatForm = el("chat-form");
  const chatInput = el("chat-input");
  const chatSend = el("chat-send");
  const chatError = el("chat-error");
  const typingLine = el("chat-typing");
  const participantsList = el("participants");

  let isHost = root.dataset.isHost === "true";
  let hostId = Number(root.dataset.hostId);
  const room = {
    guests_can_control: root.dataset.guestsCanControl === "true",
    message_delay: Number(root.dataset.messageDelay) || 0,
    max_participants: root.dataset.maxParticipants ? Number(root.dataset.maxParticipants) : null,
    is_private: !el("room-private-badge").hidden,
  };
  const serverDuration = Number(root.dataset.duration) || null;

  // --- Connection -----------------------------------------------------------------------------
  let socket = null;
  let attempt = 0;
  let connected = false; // room_state received on the current socket
  let ended = null; // a final state's kind: nothing reconnects or plays after it
  let kicked = false;
  let closeReason = null;
  let reconnectTimer = null;
  let timers = [];
  let source = null; // the player's Playback (static/js/player.js)

  // --- Playback -------------------------------------------------------------------------------
  let playback = null; // {position, is_playing, rate, server_time, seq}
  let lastSeq = -1;
  let samples = [];
  let offset = 0;
  let settlingUntil = 0;
  let pending = null; // our control frames awaiting their state: {sinceSeq, count, until}
  let ownSeekTarget = null;
  // When our own correcting seek started (performance.now()), and how long seeks take here:
  // into media the player already holds (a frame or two), or media it must fetch first (a
  // round trip or more). One estimate for both would aim the quick seek that corrects a slow
  // one far past its target, and the player would chase the room back and forth.
  let ownSeekStartedAt = null;
  let ownSeekKind = "held";
  const seekLatency = { held: 0, fetched: 0 };
  // A correcting seek of a playing player made paused, and the moment (performance.now())
  // it plays from its target (room_sync.js seekHold); `ownPause` marks that pause as ours, not
  // something to tell the room or correct.
  let hold = null; // {releaseAt, timer}
  let ownPause = false;
  let appliedRate = 1;
  let needsGesture = false;
  let forceHard = false; // a room_state or seek_event to apply with a seek once possible
  // What the player looked like when its last events were handled. A change whose event has
  // not been dispatched yet (the user just pressed play, or scrubs) must not be "corrected"
  // before onLocal has told the room about it.
  let seenPaused = video.paused;
  let seenRate = video.playbackRate;
  let userSeeking = false;

  const clientNow = () => Date.now() / 1000;
  const serverNow = () => clientNow() + offset;
  const canControl = () => isHost || room.guests_can_control;
  const mediaDuration = () =>
    Number.isFinite(video.duration) && video.duration > 0 ? video.duration : serverDuration;

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function connect() {
    reconnectTimer = null;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    const ws = new WebSocket(`${scheme}://${window.location.host}/ws/rooms/${ROOM_ID}/`);
    let opened = false;
    socket = ws;
    ws.addEventListener("open", () => {
      opened = true;
    });
    ws.addEventListener("message", (event) => {
      if (ws !== socket) return;
      let frame = null;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return;
      }
      const handler = frame && HANDLERS[frame.type];
      if (handler) handler(frame);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== socket) return;
      onClosed(event.code, opened);
    });
  }

  function stopTimers() {
    timers.forEach((timer) => clearInterval(timer));
    timers = [];
  }

  function onClosed(code, opened) {
    socket = null;
    connected = false;
    stopTimers();
    setChatEnabled(false);
    if (ended) return;
    if (code === 4000) return end("closed", closeReason);
    if (code === 4001) return end("signin");
    if (code === 4003) return end(kicked ? "kicked" : "forbidden");
    if (code === 4004) return end("notfound");
    if (code === 4009) return end("full");
    if (code === 1000) {
      // The server closes normally when this user left from another tab; anything else that
      // ends cleanly (a proxy, a restart) is just a reason to come back.
      whereAmI().then((where) => {
        if (where === "in") scheduleReconnect();
        else end(where === "out" ? "left" : "notfound");
      });
      showBanner("Reconnecting…");
      return;
    }
    if (!opened && attempt >= 2) checkRoomStillThere();
    scheduleReconnect();
  }

  // "in" the room, "out" of it (left elsewhere), or the room is "gone"; unsure counts as in.
  async function whereAmI() {
    try {
      const detail = await apiRequest("GET", `/api/rooms/${ROOM_ID}`);
      const people = detail.participants || [];
      return people.some((person) => person.user && person.user.id === ME) ? "in" : "out";
    } catch (error) {
      return error.status === 404 ? "gone" : "in";
    }
  }

  function scheduleReconnect() {
    const ceiling = Math.min(RECONNECT_MAX_S, RECONNECT_MIN_S * 2 ** attempt);
    // Full jitter between half and all of the ceiling, so a restarted server is not hit by
    // every client at the same instant.
    const delay = ceiling * (0.5 + Math.random() / 2);
    attempt += 1;
    showBanner("Reconnecting…");
    reconnectTimer = setTimeout(connect, delay * 1000);
  }

  // A socket refused before it opened carries no close code; ask the API whether the room is
  // still there before trying forever.
  async function checkRoomStillThere() {
    try {
      await apiRequest("GET", `/api/rooms/${ROOM_ID}`);
    } catch (error) {
      if (error.status === 404) end("notfound");
      if (error.status === 401) end("signin");
    }
  }

  function showBanner(text) {
    bannerText.textContent = text;
    banner.hidden = false;
  }

  function end(kind, reason = null) {
    if (ended) return;
    ended = kind;
    clearTimeout(reconnectTimer);
    stopTimers();
    const [title, fallback] = ENDINGS[kind] || ENDINGS.closed;
    const message = kind === "closed" && reason ? CLOSED_MESSAGES[reason] || fallback : fallback;
    const box = el("room-ended");
    box.dataset.kind = kind;
    el("room-ended-title").textContent = title;
    el("room-ended-message").textContent = message;
    el("room-ended-signin").hidden = kind !== "signin";
    video.pause();
    // Stop downloading the video: the viewer is no longer in the room.
    if (source) source.destroy();
    video.removeAttribute("src");
    video.load();
    banner.hidden = true;
    layout.hidden = true;
    box.hidden = false;
    document.title = `${title} · ${document.title.split(" · ").pop()}`;
    if (socket) {
      const ws = socket;
      socket = null;
      ws.close(1000);
    }
  }

  function showNotice(message) {
    notice.textContent = message;
    notice.hidden = !message;
    clearTimeout(showNotice.timer);
    if (message) showNotice.timer = setTimeout(() => showNotice(""), NOTICE_MS);
  }

  // --- Frames from the server ------------------------------------------------------------------

  function stateFrom(frame) {
    return {
      position: Number(frame.position) || 0,
      is_playing: Boolean(frame.is_playing),
      rate: Number(frame.rate) || 1,
      server_time: Number(frame.server_time) || serverNow(),
      seq: Number(frame.seq) || 0,
    };
  }

  function onRoomState(frame) {
    connected = true;
    attempt = 0;
    banner.hidden = true;
    if (frame.you) isHost = Boolean(frame.you.is_host);
    if (frame.room && frame.room.owner) hostId = Number(frame.room.owner.id);
    applyRoomSettings(frame.room || {});
    participants.clear();
    (frame.participants || []).forEach((person) => participants.set(person.user_id, person));
    renderParticipants();
    renderHistory(frame.history || []);
    // room_state replaces whatever this page believed: a reconnect resyncs from scratch.
    playback = stateFrom(frame.state || {});
    lastSeq = playback.seq;
    pending = null;
    settlingUntil = 0;
    setChatEnabled(true);
    startTimers();
    tick({ hard: true });
  }

  function startTimers() {
    stopTimers();
    for (let i = 0; i < JOIN_PINGS; i += 1) setTimeout(ping, i * JOIN_PING_SPACING_MS);
    timers.push(setInterval(ping, PING_MS));
    timers.push(setInterval(() => send({ type: "sync_request" }), SYNC_REQUEST_MS));
  }

  // While our own control frames are unanswered, a state older than the last of them is old
  // news: applying it would undo, on our screen, what we just did. Each control adds one to
  // the room's seq, so the answer to the last one has seq >= sinceSeq + count.
  function superseded(seq) {
    if (!pending) return false;
    if (clientNow() > pending.until) {
      pending = null;
      return false;
    }
    return seq < pending.sinceSeq + pending.count;
  }

  function onControlEvent(frame) {
    const seq = Number(frame.seq);
    // Echoes of our own control and anything older than what we hold are dropped by seq.
    if (!playback || seq <= lastSeq || superseded(seq)) return;
    playback = stateFrom(frame);
    lastSeq = seq;
    pending = null;
    // An explicit seek (or a newcomer's first state) is applied with a seek, not a long nudge.
    tick({ hard: frame.type === "seek_event" });
  }

  function onStateSync(frame) {
    const seq = Number(frame.seq);
    if (!playback || seq < lastSeq || superseded(seq)) return;
    playback = stateFrom(frame);
    lastSeq = seq;
    pending = null;
    tick();
  }

  function ping() {
    send({ type: "ping", t0: clientNow() });
  }

  function onPong(frame) {
    const t1 = clientNow();
    const t0 = Number(frame.t0);
    const serverTime = Number(frame.server_time);
    if (!Number.isFinite(t0) || !Number.isFinite(serverTime) || t1 < t0) return;
    samples.push([t0, serverTime, t1]);
    samples = samples.slice(-CLOCK_SAMPLES);
    offset = clockOffset(samples);
    // The first estimate of the server's clock can move the target: look again at once.
    if (samples.length === 1) tick({ hard: true });
  }

  function onError(frame) {
    if (CONTROL_TYPES.has(frame.ref)) {
      // Refused: that frame will not move the seq; the room's state (asked for below) wins.
      if (pending) pending.count -= 1;
      if (pending && pending.count <= 0) pending = null;
      showNotice(frame.message || "Only the host controls playback.");
      send({ type: "sync_request" });
      return;
    }
    if (frame.ref === "chat_message") {
      chatRefused(frame);
      return;
    }
    if (frame.message) showNotice(frame.message);
  }

  function onKicked() {
    kicked = true;
    end("kicked");
  }

  function onRoomClosed(frame) {
    closeReason = frame.reason || null;
    end("closed", closeReason);
  }

  function onRoomUpdated(frame) {
    const changes = { ...frame };
    delete changes.type;
    applyRoomSettings(changes);
  }

  // --- The player --------------------------------------------------------------------------------

  function setRate(rate) {
    if (Math.abs(video.playbackRate - rate) < 1e-6) return;
    appliedRate = rate;
    video.playbackRate = rate;
  }

  function startPlayback() {
    if (needsGesture) return;
    const attempted = video.play();
    if (!attempted) return;
    attempted.catch((error) => {
      // AbortError: a pause or a new source interrupted play(); the next tick sorts it out.
      if (error.name !== "NotAllowedError" || ended) return;
      if (!video.muted) {
        // Muted playback is allowed without a gesture: keep in sync, offer to unmute.
        video.muted = true;
        updateUnmute();
        video.play().catch(() => askForGesture());
        return;
      }
      askForGesture();
    });
  }

  function askForGesture() {
    needsGesture = true;
    gestureButton.hidden = false;
  }

  function holds(position) {
    const ranges = video.buffered;
    for (let i = 0; i < ranges.length; i += 1) {
      if (ranges.start(i) <= position && position < ranges.end(i)) return true;
    }
    return false;
  }

  function hardSeek(target) {
    settlingUntil = serverNow() + SETTLE_SECONDS;
    setRate(playback.rate);
    const kind = holds(target) ? "held" : "fetched";
    // A playing room moves on while the seek completes: the seek is held (paused) and plays
    // at a set moment, from where the room will be then (room_sync.js seekHold).
    const holdFor = playback.is_playing ? seekHold(seekLatency[kind]) : 0;
    const duration = mediaDuration();
    let aim = target + holdFor * playback.rate;
    if (duration) aim = Math.min(aim, duration);
    if (Math.abs(video.currentTime - target) > DRIFT_TOLERANCE) {
      ownSeekTarget = aim;
      ownSeekStartedAt = performance.now();
      ownSeekKind = kind;
      if (holdFor > 0 && (!duration || aim < duration)) {
        hold = { releaseAt: performance.now() + holdFor * 1000, timer: null };
        if (!video.paused) {
          ownPause = true;
          video.pause();
        }
      }
      video.currentTime = aim;
      if (hold) return;
    }
    if (playback.is_playing && video.paused) startPlayback();
    else if (!playback.is_playing && !video.paused) video.pause();
  }

  // The held seek is done: play at its moment (at once if that has passed).
  function releaseAtItsMoment() {
    if (!hold || hold.timer !== null) return;
    hold.timer = setTimeout(release, Math.max(0, hold.releaseAt - performance.now()));
  }

  function release() {
    if (!hold) return;
    clearTimeout(hold.timer);
    hold = null;
    if (playback && playback.is_playing && video.paused && !ended) startPlayback();
  }

  // Steer the player toward the room's state (ROOM_PROTOCOL.md "Client sync").
  function tick({ hard = false } = {}) {
    if (hard) forceHard = true;
    if (hold && performance.now() > hold.releaseAt + HOLD_GIVE_UP_MS) release();
    if (hold) return; // paused on purpose until its moment
    if (!playback || ended || video.readyState < HTMLMediaElement.HAVE_METADATA) return;
    // Mid-seek the reported time is where the seek is going; if the user is scrubbing, a
    // correction now would drag them back.
    if (video.seeking || userSeeking) return;
    if (video.paused !== seenPaused || video.playbackRate !== seenRate) return;
    hard = forceHard;
    forceHard = false;
    const now = serverNow();
    const duration = mediaDuration();
    const target = currentPosition(playback, now, duration);
    if (playback.is_playing && duration && target >= duration - END_MARGIN) {
      // The room has played to the end. play() on an ended video restarts it from zero, so a
      // player far behind jumps to the last frame and one nearly there plays out.
      if (!video.ended && duration - video.currentTime > SEEK_THRESHOLD) {
        ownSeekTarget = duration;
        video.currentTime = duration;
      }
      return;
    }
    const decision = driftDecision({
      localPosition: video.currentTime,
      localPaused: video.paused,
      state: playback,
      now,
      settlingUntil: hard ? 0 : settlingUntil,
    });
    const gap = Math.abs(decision.target - video.currentTime);
    if (decision.action === "seek" || (hard && gap > SEEK_EVENT_TOLERANCE)) {
      hardSeek(decision.target);
    } else if (decision.action === "nudge") {
      setRate(playback.rate * decision.rate);
    } else {
      setRate(playback.rate);
    }
    renderPlaystate(video.currentTime);
  }

  // What this participant did to their own player: the controller tells the room; anyone
  // else is put back where the room is.
  function onLocal(kind, byUser = false) {
    if (!playback || !connected || ended) return;
    if (!canControl()) {
      if (kind === "play" || kind === "pause" || kind === "seeked") tick({ hard: true });
      return;
    }
    if (kind === "play" && !playback.is_playing) {
      control("play", { position: video.currentTime });
    } else if (kind === "pause" && playback.is_playing) {
      control("pause", { position: video.currentTime });
    } else if (kind === "seeked") {
      if (byUser) control("seek", { position: video.currentTime });
    } else if (kind === "ratechange") {
      if (Math.abs(video.playbackRate - appliedRate) < 1e-6) return;
      control("rate", { rate: video.playbackRate });
    }
  }

  function control(action, { position = null, rate = null }) {
    const frame = { type: action };
    if (position !== null) {
      // The browser's duration can exceed the probed one by a few milliseconds; the server
      // refuses positions past the video's end.
      position = Math.max(0, serverDuration ? Math.min(position, serverDuration) : position);
      frame.position = position;
    }
    if (rate !== null) frame.rate = rate;
    if (!send(frame)) return;
    // Until the server's state with a newer seq comes back, ours is the room's state.
    playback = applyControl(playback, { action, now: serverNow(), position, rate });
    if (rate !== null) appliedRate = rate;
    const until = clientNow() + PENDING_CONTROL_S;
    pending =
      pending && clientNow() <= pending.until
        ? { ...pending, count: pending.count + 1, until }
        : { sinceSeq: lastSeq, count: 1, until };
    // Frames on one socket are handled in order, so this reply carries the new seq.
    send({ type: "sync_request" });
    renderPlaystate(video.currentTime);
  }

  function formatTime(seconds) {
    const total = Math.max(0, Math.floor(seconds || 0));
    const hours = Math.floor(total / 3600);
    const minutes = Math.floor((total % 3600) / 60);
    const secs = String(total % 60).padStart(2, "0");
    return hours ? `${hours}:${String(minutes).padStart(2, "0")}:${secs}` : `${minutes}:${secs}`;
  }

  function renderPlaystate(position) {
    if (!playback) return;
    const duration = mediaDuration();
    const word = playback.is_playing ? "Playing" : "Paused";
    const speed = playback.rate !== 1 ? ` · ${playback.rate}×` : "";
    el("room-playstate-icon").textContent = playback.is_playing ? "▶" : "❚❚";
    el("room-playstate-text").textContent =
      `${word} · ${formatTime(position)} / ${formatTime(duration)}${speed}`;
  }

  function updateControls() {
    const allowed = canControl();
    video.controls = allowed;
    el("room-control-hint").textContent = isHost
      ? "You control playback for everyone."
      : allowed
        ? "Everyone can control playback."
        : "The host controls playback.";
  }

  function updateUnmute() {
    unmuteButton.hidden = !video.muted;
  }

  video.addEventListener("play", () => {
    seenPaused = false;
    onLocal("play");
  });
  video.addEventListener("pause", () => {
    seenPaused = true;
    if (ownPause) {
      ownPause = false;
      return;
    }
    onLocal("pause");
  });
  video.addEventListener("ratechange", () => {
    seenRate = video.playbackRate;
    onLocal("ratechange");
  });
  video.addEventListener("seeking", () => {
    const ours =
      ownSeekTarget !== null && Math.abs(video.currentTime - ownSeekTarget) < OWN_SEEK_TOLERANCE;
    userSeeking = !ours;
  });
  video.addEventListener("seeked", () => {
    const byUser = userSeeking;
    if (!byUser && ownSeekStartedAt !== null) {
      const took = (performance.now() - ownSeekStartedAt) / 1000;
      seekLatency[ownSeekKind] = seekLatencyEstimate(seekLatency[ownSeekKind], took);
    }
    ownSeekStartedAt = null;
    userSeeking = false;
    ownSeekTarget = null;
    if (hold && !byUser) releaseAtItsMoment();
    else if (hold) release(); // the user moved the player meanwhile: theirs now
    onLocal("seeked", byUser);
  });
  video.addEventListener("loadedmetadata", () => tick({ hard: true }));
  video.addEventListener("volumechange", updateUnmute);
  // Without control rights the browser's own menu ("Show controls", "Play") stays shut.
  video.addEventListener("contextmenu", (event) => {
    if (!canControl()) event.preventDefault();
  });
  unmuteButton.addEventListener("click", () => {
    video.muted = false;
    if (video.volume === 0) video.volume = 1;
    updateUnmute();
    if (playback && playback.is_playing && video.paused) startPlayback();
  });
  gestureButton.addEventListener("click", () => {
    needsGesture = false;
    gestureButton.hidden = true;
    tick({ hard: true });
    if (playback && playback.is_playing) startPlayback();
  });
  el("room-fullscreen").addEventListener("click", () => {
    const shell = video.closest(".player-shell");
    if (document.fullscreenElement) document.exitFullscreen();
    else if (shell.requestFullscreen) shell.requestFullscreen().catch(() => {});
  });
  setInterval(() => {
    if (connected) tick();
  }, TICK_MS);

  // --- People ------------------------------------------------------------------------------------

  const participants = new Map();

  function renderParticipants() {
    const items = [...participants.values()].sort(
      (a, b) => Number(b.is_host) - Number(a.is_host) || a.username.localeCompare(b.username),
    );
    participantsList.replaceChildren(
      ...items.map((person) => {
        const item = document.createElement("li");
        item.className = "participant";
        item.dataset.userId = String(person.user_id);
        const avatar = document.createElement("span");
        avatar.className = "avatar";
        avatar.setAttribute("aria-hidden", "true");
        avatar.textContent = (person.username || "?").slice(0, 1).toUpperCase();
        const name = document.createElement("span");
        name.className = "participant-name";
        name.textContent = person.username;
        item.append(avatar, name);
        if (person.is_host) {
          const badge = document.createElement("span");
          badge.className = "badge badge-host";
          badge.textContent = "Host";
          item.append(badge);
        }
        if (person.user_id === ME) {
          const you = document.createElement("span");
          you.className = "muted small";
          you.textContent = "(you)";
          item.append(you);
        } else if (isHost) {
          const kick = document.createElement("button");
          kick.type = "button";
          kick.className = "btn btn-sm btn-ghost participant-kick";
          kick.dataset.kick = String(person.user_id);
          kick.dataset.username = person.username;
          kick.setAttribute("aria-label", `Kick ${person.username}`);
          kick.textContent = "Kick";
          item.append(kick);
        }
        return item;
      }),
    );
    el("room-count").textContent = String(participants.size);
  }

  function onUserJoined(frame) {
    participants.set(frame.user_id, {
      user_id: frame.user_id,
      username: frame.username,
      is_host: frame.user_id === hostId,
    });
    renderParticipants();
  }

  function onUserLeft(frame) {
    participants.delete(frame.user_id);
    typers.delete(frame.user_id);
    renderTyping();
    renderParticipants();
  }

  participantsList.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-kick]");
    if (!button || button.disabled) return;
    const userId = Number(button.dataset.kick);
    const question = `Remove ${button.dataset.username} from the room? They will not be able to come back.`;
    if (!window.confirm(question)) return;
    button.disabled = true;
    try {
      await apiRequest("POST", `/api/rooms/${ROOM_ID}/kick/${userId}`);
      participants.delete(userId);
      renderParticipants();
    } catch (error) {
      button.disabled = false;
      showNotice(error.message);
    }
  });

  const inviteForm = el("invite-form");
  const inviteStatus = el("invite-status");
  inviteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = el("invite-username");
    const username = input.value.trim();
    const showStatus = (message, ok) => {
      inviteStatus.textContent = message;
      inviteStatus.className = ok ? "small invite-ok" : "small form-error";
      inviteStatus.hidden = !message;
    };
    if (!username) {
      showStatus("Type the username of the person to invite.", false);
      return;
    }
    const button = inviteForm.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await apiRequest("POST", `/api/rooms/${ROOM_ID}/invite`, { username });
      showStatus(`Invitation sent to ${username}.`, true);
      input.value = "";
    } catch (error) {
      const details = error.details || {};
      const fieldMessage = (details.username || details.user_id || [])[0];
      showStatus(fieldMessage || error.message, false);
    } finally {
      button.disabled = false;
    }
  });

  // --- Room settings -------------------------------------------------------------------------

  function applyRoomSettings(changes) {
    for (const key of ["guests_can_control", "message_delay", "max_participants", "is_private"]) {
      if (key in changes) room[key] = changes[key];
    }
    el("room-private-badge").hidden = !room.is_private;
    el("room-slow-badge").hidden = !(room.message_delay > 0);
    el("room-cap").textContent = room.max_participants ? String(room.max_participants) : "";
    el("room-cap-wrap").hidden = !room.max_participants;
    updateControls();
    updateSlowModeHint();
    fillSettingsForm();
  }

  const settingsForm = el("settings-form");

  function fillSettingsForm() {
    if (!settingsForm) return;
    const fields = settingsForm.elements;
    const set = (name, apply) => {
      if (fields[name] !== document.activeElement) apply(fields[name]);
    };
    set("max_participants", (input) => {
      input.value = room.max_participants === null ? "" : String(room.max_participants);
    });
    set("message_delay", (input) => {
      input.value = String(room.message_delay);
    });
    set("is_private", (input) => {
      input.checked = Boolean(room.is_private);
    });
    set("guests_can_control", (input) => {
      input.checked = Boolean(room.guests_can_control);
    });
  }

  function showFieldErrors(details) {
    settingsForm.querySelectorAll("[data-field]").forEach((field) => {
      const list = field.querySelector(".errorlist");
      const messages = details[field.dataset.field] || [];
      list.replaceChildren(
        ...messages.map((message) => {
          const item = document.createElement("li");
          item.textContent = message;
          return item;
        }),
      );
      list.hidden = messages.length === 0;
      field.classList.toggle("field-invalid", messages.length > 0);
    });
  }

  if (settingsForm) {
    settingsForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const fields = settingsForm.elements;
      const status = el("settings-status");
      const formError = el("settings-error");
      const seats = fields.max_participants.value.trim();
      const body = {
        max_participants: seats === "" ? null : Number(seats),
        message_delay: Number(fields.message_delay.value || 0),
        is_private: fields.is_private.checked,
        guests_can_control: fields.guests_can_control.checked,
      };
      const button = settingsForm.querySelector("button[type=submit]");
      button.disabled = true;
      status.textContent = "Saving…";
      formError.hidden = true;
      showFieldErrors({});
      try {
        const saved = await apiRequest("PATCH", `/api/rooms/${ROOM_ID}`, body);
        document.activeElement.blur();
        applyRoomSettings(saved || body);
        status.textContent = "Saved.";
      } catch (error) {
        status.textContent = "";
        showFieldErrors(error.details || {});
        if (!Object.keys(error.details || {}).length) {
          formError.textContent = error.message;
          formError.hidden = false;
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- Link and leaving ----------------------------------------------------------------------

  const linkInput = el("room-link");
  const copyButton = el("room-copy");
  copyButton.addEventListener("click", async () => {
    const done = (label) => {
      copyButton.textContent = label;
      setTimeout(() => {
        copyButton.textContent = "Copy link";
      }, 2000);
    };
    try {
      await navigator.clipboard.writeText(linkInput.value);
      done("Copied!");
    } catch {
      // No clipboard API (plain http, old browser): select the text for a manual copy.
      linkInput.focus();
      linkInput.select();
      let copied = false;
      try {
        copied = document.execCommand("copy");
      } catch {
        copied = false;
      }
      done(copied ? "Copied!" : "Press Ctrl+C");
    }
  });
  linkInput.addEventListener("focus", () => linkInput.select());

  el("room-leave").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
    button.disabled = true;
    // Our own leave is not news to show as "closed" or "left" while the request runs.
    ended = "leaving";
    try {
      await apiRequest("POST", `/api/rooms/${ROOM_ID}/leave`);
    } catch (error) {
      if (error.status !== 403 && error.status !== 404) {
        ended = null;
        button.disabled = false;
        showNotice(error.message);
        if (!socket) connect();
        return;
      }
    }
    window.location.assign("/rooms");
  });

  // --- Chat ----------------------------------------------------------------------------------

  const seenMessages = new Set();
  const pendingMessages = []; // [{clientId, text, item}] in the order they were sent
  let cooldownUntil = 0;
  let cooldownTimer = null;
  let lastTypingSent = 0;
  const typers = new Map(); // user_id → {username, timer}

  function setChatEnabled(enabled) {
    chatInput.disabled = !enabled;
    chatSend.disabled = !enabled || clientNow() < cooldownUntil;
  }

  function slowModeApplies() {
    return room.message_delay > 0 && !isHost && !IS_STAFF;
  }

  function updateSlowModeHint() {
    el("chat-slow").hidden = !slowModeApplies();
    el("chat-slow-seconds").textContent = String(room.message_delay);
  }

  function messageItem({ username, message, timestamp, user_id: userId }, isPending = false) {
    const item = document.createElement("li");
    item.className = "chat-message";
    if (userId === ME) item.classList.add("chat-mine");
    if (isPending) item.classList.add("chat-pending");
    const head = document.createElement("div");
    head.className = "chat-head";
    const who = document.createElement("span");
    who.className = "chat-user";
    who.textContent = username;
    head.append(who);
    if (userId === hostId) {
      const badge = document.createElement("span");
      badge.className = "badge badge-host";
      badge.textContent = "Host";
      head.append(badge);
    }
    const when = document.createElement("time");
    when.className = "chat-time";
    if (timestamp) {
      when.dateTime = timestamp;
      when.textContent = new Date(timestamp).toLocaleTimeString([], {
        hour: "2-digit",
        minute: "2-digit",
      });
    } else {
      when.textContent = "sending…";
    }
    head.append(when);
    const text = document.createElement("p");
    text.className = "chat-text";
    // Plain text, always: a message is never parsed as HTML.
    text.textContent = message;
    item.append(head, text);
    return item;
  }

  function scrollChat(force) {
    const nearBottom = chatLog.scrollHeight - chatLog.scrollTop - chatLog.clientHeight < 80;
    if (force || nearBottom) chatLog.scrollTop = chatLog.scrollHeight;
  }

  function appendMessage(frame, force = false) {
    if (frame.message_id !== undefined) {
      if (seenMessages.has(frame.message_id)) return null;
      seenMessages.add(frame.message_id);
    }
    const item = messageItem(frame);
    chatLog.append(item);
    chatEmpty.hidden = true;
    scrollChat(force);
    return item;
  }

  function renderHistory(history) {
    seenMessages.clear();
    chatLog.replaceChildren();
    history.forEach((frame) => appendMessage(frame));
    // Sent before the connection dropped and never acknowledged: stored if the history has
    // it, otherwise given back to the input to send again.
    for (const entry of pendingMessages.splice(0)) {
      const stored = history.some((m) => m.user_id === ME && m.message === entry.text);
      if (!stored && !chatInput.value) chatInput.value = entry.text;
    }
    chatEmpty.hidden = chatLog.children.length > 0;
    scrollChat(true);
  }

  function onChatMessage(frame) {
    const index = frame.client_id
      ? pendingMessages.findIndex((entry) => entry.clientId === frame.client_id)
      : -1;
    if (index >= 0) {
      const [entry] = pendingMessages.splice(index, 1);
      if (seenMessages.has(frame.message_id)) {
        entry.item.remove();
      } else {
        seenMessages.add(frame.message_id);
        entry.item.replaceWith(messageItem(frame));
      }
      if (slowModeApplies()) startCooldown(room.message_delay);
    } else {
      appendMessage(frame, frame.user_id === ME);
    }
    if (typers.has(frame.user_id)) {
      clearTimeout(typers.get(frame.user_id).timer);
      typers.delete(frame.user_id);
      renderTyping();
    }
  }

  function chatRefused(frame) {
    const entry = pendingMessages.shift();
    if (entry) {
      entry.item.remove();
      if (!chatInput.value) chatInput.value = entry.text;
      chatEmpty.hidden = chatLog.children.length > 0;
    }
    if (frame.code === "RATE_LIMIT_EXCEEDED") {
      startCooldown(Number(frame.retry_after) || 1);
    }
    chatError.textContent = frame.message || "The message was not sent.";
    chatError.hidden = false;
  }

  function renderCooldown() {
    const left = Math.ceil(cooldownUntil - clientNow());
    if (left > 0) {
      chatSend.disabled = true;
      chatSend.textContent = `Wait ${left}s`;
      return;
    }
    clearInterval(cooldownTimer);
    cooldownTimer = null;
    chatSend.textContent = "Send";
    chatSend.disabled = !connected;
    chatError.hidden = true;
  }

  function startCooldown(seconds) {
    cooldownUntil = Math.max(cooldownUntil, clientNow() + seconds);
    clearInterval(cooldownTimer);
    cooldownTimer = setInterval(renderCooldown, 250);
    renderCooldown();
  }

  function newClientId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") {
      return window.crypto.randomUUID();
    }
    return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;
  }

  chatForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = chatInput.value.trim();
    if (!text || !connected || clientNow() < cooldownUntil) return;
    if (text.length > 500) {
      chatError.textContent = "A message is at most 500 characters.";
      chatError.hidden = false;
      return;
    }
    const clientId = newClientId();
    if (!send({ type: "chat_message", message: text, client_id: clientId })) return;
    const item = messageItem({ username: root.dataset.username, message: text, user_id: ME }, true);
    chatLog.append(item);
    chatEmpty.hidden = true;
    scrollChat(true);
    pendingMessages.push({ clientId, text, item });
    chatInput.value = "";
    chatError.hidden = true;
  });

  chatInput.addEventListener("input", () => {
    const now = Date.now();
    if (!chatInput.value.trim() || now - lastTypingSent < TYPING_SEND_MS) return;
    lastTypingSent = now;
    send({ type: "typing" });
  });

  function renderTyping() {
    const names = [...typers.values()].map((typer) => typer.username);
    let text = "";
    if (names.length === 1) text = `${names[0]} is typing…`;
    else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
    else if (names.length > 2) text = "Several people are typing…";
    typingLine.textContent = text;
  }

  function onTyping(frame) {
    if (frame.user_id === ME) return;
    const previous = typers.get(frame.user_id);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => {
      typers.delete(frame.user_id);
      renderTyping();
    }, TYPING_SHOW_MS);
    typers.set(frame.user_id, { username: frame.username, timer });
    renderTyping();
  }

  const HANDLERS = {
    room_state: onRoomState,
    play_event: onControlEvent,
    pause_event: onControlEvent,
    seek_event: onControlEvent,
    rate_event: onControlEvent,
    state_sync: onStateSync,
    pong: onPong,
    chat_message_event: onChatMessage,
    typing: onTyping,
    user_joined: onUserJoined,
    user_left: onUserLeft,
    error: onError,
    kicked: onKicked,
    room_closed: onRoomClosed,
    room_updated: onRoomUpdated,
  };

  updateControls();
  updateUnmute();
  // The source (HLS when the video has it, else the original) is settled before the room's
  // state is first applied to the player.
  attachPlayback(video, {
    hlsUrl: video.dataset.hlsUrl,
    streamUrl: video.dataset.streamUrl,
    preload: video.dataset.preload,
  })
    .then(
      (attached) => {
        source = attached;
      },
      () => {},
    )
    .finally(connect);
}
