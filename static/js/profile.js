// Shows the chosen avatar before it is uploaded; the server re-encodes it anyway.
const input = document.querySelector("#id_avatar");
const preview = document.querySelector("#avatar-preview");
const initial = document.querySelector("#avatar-initial");
let objectUrl = null;

if (input && preview) {
  input.addEventListener("change", () => {
    const file = input.files && input.files[0];
    if (objectUrl) {
      URL.revokeObjectURL(objectUrl);
      objectUrl = null;
    }
    if (!file || !file.type.startsWith("image/")) {
      return;
    }
    objectUrl = URL.createObjectURL(file);
    preview.src = objectUrl;
    preview.alt = "Preview of the new avatar";
    preview.hidden = false;
    preview.classList.remove("is-empty");
    if (initial) {
      initial.classList.add("is-hidden");
    }
  });
}
