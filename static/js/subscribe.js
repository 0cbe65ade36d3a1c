// Subscribe / sponsor / unsubscribe buttons on the video and channel pages.
// Any element with data-subscribe-action works; the page reloads after a change, so counts,
// buttons and the video's access state all come from the server again.
import { apiRequest } from "./api.js";

const SUBSCRIPTIONS = "/api/subscriptions";

function request(action, channelId, subscriptionId) {
  switch (action) {
    case "subscribe":
      return apiRequest("POST", SUBSCRIPTIONS, { channel_id: channelId, is_sponsor: false });
    case "sponsor":
      return subscriptionId
        ? apiRequest("PATCH", `${SUBSCRIPTIONS}/${subscriptionId}`, { is_sponsor: true })
        : apiRequest("POST", SUBSCRIPTIONS, { channel_id: channelId, is_sponsor: true });
    case "unsponsor":
      return apiRequest("PATCH", `${SUBSCRIPTIONS}/${subscriptionId}`, { is_sponsor: false });
    case "unsubscribe":
      return apiRequest("DELETE", `${SUBSCRIPTIONS}/${subscriptionId}`);
    default:
      return Promise.reject(new Error(`Unknown action ${action}`));
  }
}

function showError(button, message) {
  const box = button.closest("[data-subscribe-box]");
  const target = box && box.querySelector("[data-subscribe-error]");
  if (!target) {
    window.alert(message);
    return;
  }
  target.textContent = message;
  target.hidden = !message;
}

async function onClick(event) {
  const button = event.target.closest("button[data-subscribe-action]");
  if (!button || button.disabled) return;
  const { subscribeAction: action, confirm: question } = button.dataset;
  if (question && !window.confirm(question)) return;
  const channelId = Number(button.dataset.channelId);
  const subscriptionId = button.dataset.subscriptionId || "";
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  showError(button, "");
  try {
    await request(action, channelId, subscriptionId);
    window.location.reload();
  } catch (error) {
    showError(button, error.message);
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  }
}

document.addEventListener("click", onClick);
