// Talking to VideoHost's REST API from the site's pages (session cookie + CSRF header).

export function csrfToken() {
  const input = document.querySelector('input[name="csrfmiddlewaretoken"]');
  if (input && input.value) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}

export class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.status = status;
    this.body = body;
    this.details = (body && body.error && body.error.details) || {};
  }
}

// The human message of the error envelope {"error": {"code", "message", "details"}}.
export function errorMessage(body, status) {
  const error = body && body.error;
  if (error && error.message) return error.message;
  if (status === 0) return "The server could not be reached. Check your connection and try again.";
  return `Something went wrong (HTTP ${status}). Please try again.`;
}

export function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export async function apiRequest(method, url, data) {
  const headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
  const options = { method, headers, credentials: "same-origin" };
  if (data !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(data);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(errorMessage(null, 0), 0, null);
  }
  const body = parseJson(await response.text());
  if (!response.ok) throw new ApiError(errorMessage(body, response.status), response.status, body);
  return body;
}
