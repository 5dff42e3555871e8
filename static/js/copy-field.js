// A Copy button beside a read-only field (a new API token's key): `data-copy-field` names
// the field's id. Where the clipboard refuses, the selected key is copied by the older copy
// command, or left selected for Ctrl+C.

function attach(button) {
  const field = document.getElementById(button.dataset.copyField);
  const status = document.getElementById(button.dataset.copyStatus);
  if (!field) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      if (!navigator.clipboard) throw new Error("no clipboard");
      await navigator.clipboard.writeText(field.value);
      if (status) status.textContent = "Copied to the clipboard.";
    } catch {
      // Refused (no clipboard on plain HTTP, or the document lost focus): the older copy
      // command still works on the selection within the click's user activation.
      field.focus();
      field.select();
      const copied = document.execCommand && document.execCommand("copy");
      if (status) {
        status.textContent = copied ? "Copied to the clipboard." : "Selected: press Ctrl+C (⌘C) to copy.";
      }
    }
  });
}

document.querySelectorAll("[data-copy-field]").forEach(attach);
