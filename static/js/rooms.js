// The rooms list: accept or decline an invitation (POST /api/invitations/{id}/accept|decline).
// Accepting joins the room, so the page moves on to it; declining just drops the row.
import { apiRequest } from "./api.js";

function showError(row, message) {
  const target = row.querySelector("[data-invitation-error]");
  target.textContent = message;
  target.hidden = !message;
}

function dropRow(row) {
  const list = row.parentElement;
  row.remove();
  if (list && !list.querySelector("[data-invitation-id]")) {
    list.remove();
    const empty = document.getElementById("invitations-empty");
    if (empty) empty.hidden = false;
    const pill = document.querySelector("#invitations-heading .count-pill");
    if (pill) pill.remove();
  }
}

async function onClick(event) {
  const button = event.target.closest("button[data-invitation-action]");
  if (!button || button.disabled) return;
  const row = button.closest("[data-invitation-id]");
  const action = button.dataset.invitationAction;
  const buttons = row.querySelectorAll("button[data-invitation-action]");
  buttons.forEach((each) => {
    each.disabled = true;
  });
  button.setAttribute("aria-busy", "true");
  showError(row, "");
  try {
    const room = await apiRequest("POST", `/api/invitations/${row.dataset.invitationId}/${action}`);
    if (action === "accept") {
      window.location.assign(`/rooms/${room.id}`);
      return;
    }
    dropRow(row);
  } catch (error) {
    showError(row, error.message);
    buttons.forEach((each) => {
      each.disabled = false;
    });
    button.removeAttribute("aria-busy");
  }
}

document.addEventListener("click", onClick);
