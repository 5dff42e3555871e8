// A Copy button beside a read-only field (a new API token's key): `data-copy-field` names
// the field's id. Without a clipboard (plain HTTP) the key is selected for Ctrl+C instead.

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
      field.focus();
      field.select();
      if (status) status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
    }
  });
}

document.querySelectorAll("[data-copy-field]").forEach(attach);
