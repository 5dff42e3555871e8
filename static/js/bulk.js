// Bulk actions on the library page: "select every source on this page", the count of the
// selected, and no action without a selection. On the confirmation page a deletion waits
// UNDO_SECONDS with an Undo button before it is sent, as a deleted annotation does.
const form = document.querySelector("[data-bulk]");

if (form) {
  const boxes = () => [...document.querySelectorAll(`input[name=sources][form="${form.id}"]`)];
  const all = document.querySelector("[data-role=select-all]");
  const count = form.querySelector("[data-role=selected-count]");
  const update = () => {
    const chosen = boxes().filter((box) => box.checked).length;
    count.textContent = chosen ? `(${chosen} selected)` : "(select them in the list)";
    form.querySelectorAll("button[name=action]").forEach((button) => { button.disabled = chosen === 0; });
    if (all) all.checked = chosen > 0 && chosen === boxes().length;
  };
  if (all) {
    all.hidden = false;
    all.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = all.checked; });
      update();
    });
  }
  document.addEventListener("change", (event) => {
    if (event.target.matches?.("input[name=sources]")) update();
  });
  update();
}

const confirm = document.querySelector("[data-bulk-confirm][data-undo-delay]");
if (confirm) {
  const undo = confirm.querySelector("[data-role=undo]");
  const submit = confirm.querySelector("button[name=confirm]");
  let timer = 0;
  confirm.addEventListener("submit", (event) => {
    if (confirm.dataset.sending) return;
    event.preventDefault();
    let left = Number(confirm.dataset.undoDelay);
    submit.disabled = true;
    undo.hidden = false;
    const cancel = Object.assign(document.createElement("button"), { type: "button", className: "secondary", textContent: "Undo" });
    const say = () => { undo.firstChild.textContent = `Deleting in ${left} s… `; };
    undo.replaceChildren(document.createTextNode(""), cancel);
    say();
    cancel.focus();
    cancel.addEventListener("click", () => {
      clearInterval(timer);
      undo.replaceChildren(document.createTextNode("Not deleted."));
      submit.disabled = false;
      submit.focus();
    });
    timer = setInterval(() => {
      left -= 1;
      if (left > 0) return say();
      clearInterval(timer);
      confirm.dataset.sending = "true";
      const hidden = Object.assign(document.createElement("input"), { type: "hidden", name: "confirm", value: "1" });
      confirm.append(hidden);
      confirm.submit();
      return undefined;
    }, 1000);
  });
}
