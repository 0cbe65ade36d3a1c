// The upload page: checks the form, sends the file, and links to the new video.
// Small files go in one multipart POST /api/videos with XMLHttpRequest (the one browser API
// that reports upload progress). Files above the form's data-resumable-threshold go through
// tus (/api/uploads, tus-js-client loaded before this module) in chunks: a dropped connection
// is retried with backoff and resumes at the last byte the server has, and so does a reload
// with the same file. The finished upload then becomes the video by its upload_id.
import { apiRequest, csrfToken, errorMessage, parseJson } from "./api.js";

const form = document.getElementById("upload-form");
const fileInput = document.getElementById("id_file");
const titleInput = document.getElementById("id_title");
const descriptionInput = document.getElementById("id_description");
const accessInput = document.getElementById("id_access_level");
const adsInput = document.getElementById("id_has_ads");
const submitButton = document.getElementById("upload-submit");
const cancelButton = document.getElementById("upload-cancel");
const errorBox = document.getElementById("upload-error");
const statusBox = document.getElementById("upload-status");
const stateText = document.getElementById("upload-state");
const percentText = document.getElementById("upload-percent");
const bytesText = document.getElementById("upload-bytes");
const progress = document.getElementById("upload-progress");
const doneBox = document.getElementById("upload-done");

const maxSize = Number(form.dataset.maxSize);
const resumableThreshold = Number(form.dataset.resumableThreshold);
const chunkSize = Number(form.dataset.chunkSize);
const extensions = (form.dataset.extensions || "").split(/\s+/).filter(Boolean);
const TITLE_MAX = 200;
const FIELDS = ["file", "title", "description", "access_level", "has_ads"];
// Milliseconds before each automatic retry; the count starts over whenever bytes get through,
// so a flaky connection is retried for as long as it makes progress.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000];
let current = null; // the upload in flight: { cancel() }

function formatBytes(bytes) {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

function extensionOf(name) {
  const dot = name.lastIndexOf(".");
  return dot === -1 ? "" : name.slice(dot).toLowerCase();
}

function clearErrors() {
  form.querySelectorAll("[data-client-errors]").forEach((list) => list.remove());
  form.querySelectorAll(".field-invalid").forEach((field) => field.classList.remove("field-invalid"));
  form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  errorBox.hidden = true;
  errorBox.textContent = "";
}

function showGeneralError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

// Per-field messages go under their field; anything else joins the message on top.
function showErrors(details, message) {
  const leftovers = [];
  let first = null;
  for (const [name, raw] of Object.entries(details || {})) {
    const messages = Array.isArray(raw) ? raw : [String(raw)];
    const input = FIELDS.includes(name) ? form.elements[name] : null;
    const field = input && input.closest(".field");
    if (!field) {
      leftovers.push(...messages);
      continue;
    }
    const list = document.createElement("ul");
    list.className = "errorlist";
    list.dataset.clientErrors = "";
    list.id = `${input.id}_client_errors`;
    for (const text of messages) {
      const item = document.createElement("li");
      item.textContent = text;
      list.append(item);
    }
    field.append(list);
    field.classList.add("field-invalid");
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  const general = [message, ...leftovers].filter(Boolean);
  if (general.length) showGeneralError(general.join(" "));
  (first || errorBox).focus?.();
}

function validate() {
  const errors = {};
  const file = fileInput.files[0];
  if (!file) {
    errors.file = ["Choose a video file to upload."];
  } else if (!(file.type.startsWith("video/") || extensions.includes(extensionOf(file.name)))) {
    errors.file = [`“${file.name}” does not look like a video file.`];
  } else if (file.size > maxSize) {
    errors.file = [`The file is ${formatBytes(file.size)}; the limit is ${formatBytes(maxSize)}.`];
  } else if (file.size === 0) {
    errors.file = ["The file is empty."];
  }
  const title = titleInput.value.trim();
  if (!title) errors.title = ["Give the video a title."];
  else if (title.length > TITLE_MAX) errors.title = [`Keep the title to ${TITLE_MAX} characters or fewer.`];
  return errors;
}

function setBusy(busy) {
  for (const input of [fileInput, titleInput, descriptionInput, accessInput, adsInput]) {
    input.disabled = busy;
  }
  submitButton.disabled = busy;
  cancelButton.hidden = !busy;
}

function setProgress(loaded, total) {
  const percent = total ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;
  progress.value = percent;
  progress.textContent = `${percent}%`;
  percentText.textContent = `${percent}%`;
  bytesText.textContent = `${formatBytes(loaded)} of ${formatBytes(total)}`;
}

function showDone(video) {
  const url = `/videos/${encodeURIComponent(video.id)}`;
  doneBox.replaceChildren();
  const line = document.createElement("p");
  const strong = document.createElement("strong");
  strong.textContent = "Uploaded! ";
  line.append(strong, `“${video.title}” is ${video.status === "ready" ? "ready to watch" : "being processed"}.`);
  const actions = document.createElement("p");
  actions.className = "form-actions";
  const watch = document.createElement("a");
  watch.className = "btn btn-primary";
  watch.id = "upload-done-link";
  watch.href = url;
  watch.textContent = "Open the video";
  const studio = document.createElement("a");
  studio.className = "btn";
  studio.href = "/studio";
  studio.textContent = "My channel";
  const again = document.createElement("button");
  again.type = "button";
  again.className = "btn btn-ghost";
  again.textContent = "Upload another";
  again.addEventListener("click", reset);
  actions.append(watch, studio, again);
  doneBox.append(line, actions);
  doneBox.hidden = false;
  watch.focus();
}

function reset() {
  form.reset();
  clearErrors();
  doneBox.hidden = true;
  statusBox.hidden = true;
  setProgress(0, 0);
  bytesText.textContent = "";
  setBusy(false);
  submitButton.hidden = false;
}

function finishRequest() {
  current = null;
  setBusy(false);
}

function videoFields() {
  return {
    title: titleInput.value.trim(),
    description: descriptionInput.value,
    access_level: accessInput.value,
    has_ads: adsInput.checked,
  };
}

function succeed(video, file) {
  finishRequest();
  setProgress(file.size, file.size);
  stateText.textContent = "Upload complete";
  submitButton.hidden = true;
  showDone(video);
}

function fail(body, status) {
  finishRequest();
  stateText.textContent = "Upload failed";
  const details = (body && body.error && body.error.details) || {};
  showErrors(details, errorMessage(body, status));
}

function showCancelled() {
  finishRequest();
  statusBox.hidden = true;
  setProgress(0, 0);
  showGeneralError("Upload cancelled.");
}

function checking() {
  stateText.textContent = "Checking the video…";
  // The bytes are all there; the server's check cannot be called back.
  cancelButton.hidden = true;
}

function uploadInOneRequest(file) {
  const data = new FormData();
  data.append("file", file, file.name);
  for (const [name, value] of Object.entries(videoFields())) data.append(name, String(value));

  const xhr = new XMLHttpRequest();
  current = { cancel: () => xhr.abort() };
  xhr.open("POST", form.dataset.apiUrl);
  xhr.setRequestHeader("X-CSRFToken", csrfToken());
  xhr.setRequestHeader("Accept", "application/json");
  xhr.upload.addEventListener("progress", (event) => {
    if (event.lengthComputable) setProgress(event.loaded, event.total);
  });
  xhr.upload.addEventListener("load", checking);
  xhr.addEventListener("load", () => {
    const body = parseJson(xhr.responseText);
    if (xhr.status === 201 && body && body.id) succeed(body, file);
    else fail(body, xhr.status);
  });
  xhr.addEventListener("error", () => fail(null, 0));
  xhr.addEventListener("abort", showCancelled);
  xhr.send(data);
}

async function createFromUpload(uploadUrl, file) {
  checking();
  const uploadId = uploadUrl.replace(/\/+$/, "").split("/").pop();
  try {
    succeed(await apiRequest("POST", form.dataset.apiUrl, { upload_id: uploadId, ...videoFields() }), file);
  } catch (error) {
    fail(error.body, error.status);
  }
}

function uploadResumably(file) {
  let cancelled = false;
  const upload = new window.tus.Upload(file, {
    endpoint: form.dataset.tusUrl,
    chunkSize,
    retryDelays: RETRY_DELAYS,
    metadata: { filename: file.name, filetype: file.type || "application/octet-stream" },
    headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
    // The same file picked again after a reload or a crash continues where it stopped.
    storeFingerprintForResuming: true,
    removeFingerprintOnSuccess: true,
    onProgress(sent, total) {
      stateText.textContent = "Uploading…";
      setProgress(sent, total);
    },
    onShouldRetry(error, attempt) {
      const status = error.originalResponse ? error.originalResponse.getStatus() : 0;
      // Network errors, server trouble and offset conflicts heal; other refusals do not.
      const retry = status === 0 || status >= 500 || status === 409 || status === 423;
      if (retry) stateText.textContent = `Connection lost. Retrying (attempt ${attempt + 1})…`;
      return retry;
    },
    onError(error) {
      if (cancelled) return;
      const response = error.originalResponse;
      fail(response ? parseJson(response.getBody()) : null, response ? response.getStatus() : 0);
    },
    onSuccess() {
      createFromUpload(upload.url, file);
    },
  });
  current = {
    cancel() {
      cancelled = true;
      // true: also delete what the server has so far (tus termination).
      upload.abort(true).catch(() => {});
      showCancelled();
    },
  };
  upload
    .findPreviousUploads()
    .then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
    })
    .catch(() => {})
    .finally(() => {
      if (!cancelled) upload.start();
    });
}

function upload() {
  const file = fileInput.files[0];
  clearErrors();
  doneBox.hidden = true;
  statusBox.hidden = false;
  stateText.textContent = "Uploading…";
  setProgress(0, file.size);
  setBusy(true);
  if (file.size > resumableThreshold && window.tus && window.tus.isSupported) uploadResumably(file);
  else uploadInOneRequest(file);
}

fileInput.addEventListener("change", () => {
  const file = fileInput.files[0];
  // A title to start from: the file name without its extension.
  if (file && !titleInput.value.trim()) {
    titleInput.value = file.name.replace(/\.[^.]+$/, "").replace(/[_-]+/g, " ").slice(0, TITLE_MAX);
  }
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (current) return;
  clearErrors();
  const errors = validate();
  if (Object.keys(errors).length) {
    showErrors(errors, "Please fix the highlighted fields.");
    return;
  }
  upload();
});

cancelButton.addEventListener("click", () => {
  if (current) current.cancel();
});
