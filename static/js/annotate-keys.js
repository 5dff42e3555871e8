// One-key shortcuts of the reading view, and `?` to list them. Keys act only when focus is
// not in a field (typing a comment never triggers one) and without Ctrl, Alt or Meta.
//   j / k    next / previous highlight in the text: its marks outlined and focused (so every
//            highlight is reachable by keyboard), its card marked in the list
//   Enter    on a focused highlight: go to its card
//   h c t m  highlight, comment, tag or make a claim of the selected passage
//   l        show or hide the list of annotations
//   ?        this list of shortcuts

export const SHORTCUTS = [
  ["j", "Next highlight"],
  ["k", "Previous highlight"],
  ["Enter", "On a highlight: go to its card"],
  ["h", "Highlight the selected passage"],
  ["c", "Comment on the selected passage"],
  ["t", "Tag the selected passage"],
  ["m", "Make a claim from the selected passage"],
  ["l", "Show or hide the list of annotations"],
  ["?", "Show these shortcuts"],
];
const TYPING = "input, textarea, select, [contenteditable]:not([contenteditable=false])";
const POPOVER_ACTIONS = { h: "highlight", c: "comment", t: "tag", m: "make-claim" };

export class Shortcuts {
  constructor({ reader, panel, store, list, painter, popover, announce }) {
    Object.assign(this, { reader, panel, store, list, painter, popover, announce });
    this.current = null; // the annotation j/k last moved to
    this.dialog = this.buildDialog();
    document.addEventListener("keydown", (event) => this.onKey(event));
    reader.addEventListener("keydown", (event) => {
      const mark = event.target.closest?.("mark.hl");
      if (event.key === "Enter" && mark) {
        event.preventDefault();
        this.list.focusCard(Number(mark.dataset.ids.split(" ")[0]));
      }
    });
  }

  onKey(event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.defaultPrevented) return;
    if (event.target.closest?.(TYPING) || this.popover?.hasFocus()) return;
    if (this.dialog.open && event.key !== "?") return;
    const key = event.key;
    if (key === "j" || key === "k") this.step(key === "j" ? 1 : -1);
    else if (key in POPOVER_ACTIONS) this.onSelection(POPOVER_ACTIONS[key]);
    else if (key === "l") this.toggleList();
    else if (key === "?") this.toggleHelp();
    else return;
    event.preventDefault();
  }

  /** Move to the next or previous highlight after the one shown (or the top of the screen). */
  step(direction) {
    const shown = this.store.shown().filter((a) => a.text === this.store.textId);
    if (!shown.length) {
      this.announce("No highlights in this text.");
      return;
    }
    let at = this.current ? shown.findIndex((a) => a.id === this.current.id) : -1;
    if (at < 0) at = direction > 0 ? -1 : shown.length;
    const next = shown[(at + direction + shown.length) % shown.length];
    this.current = next;
    const marks = this.painter.focus(next);
    this.list.markFocused(this.list.cards.get(next.id));
    const first = marks[0];
    if (!first) return;
    first.tabIndex = -1;
    first.focus({ preventScroll: true });
    first.scrollIntoView({ block: "center" });
    const place = shown.indexOf(next) + 1;
    this.announce(`Highlight ${place} of ${shown.length}: ${next.exact.slice(0, 80)}`);
  }

  onSelection(action) {
    if (!this.popover || !this.popover.isOpen) {
      this.announce("Select a passage first (Shift and the arrow keys, or the mouse).");
      return;
    }
    const button = this.popover.el.querySelector(`[data-action="${action}"]`);
    if (button && !button.hidden) button.click();
  }

  toggleList() {
    const list = this.panel.querySelector("[data-role=list]");
    const hidden = this.panel.classList.toggle("list-hidden");
    list.hidden = hidden;
    this.announce(hidden ? "List of annotations hidden." : "List of annotations shown.");
  }

  buildDialog() {
    const dialog = document.createElement("dialog");
    dialog.className = "shortcuts";
    dialog.setAttribute("aria-labelledby", "shortcuts-title");
    const title = Object.assign(document.createElement("h2"), { id: "shortcuts-title", textContent: "Keyboard shortcuts" });
    const table = document.createElement("dl");
    for (const [key, what] of SHORTCUTS) {
      const dt = document.createElement("dt");
      dt.append(Object.assign(document.createElement("kbd"), { textContent: key }));
      table.append(dt, Object.assign(document.createElement("dd"), { textContent: what }));
    }
    const close = Object.assign(document.createElement("button"), { type: "button", textContent: "Close" });
    close.addEventListener("click", () => dialog.close());
    dialog.append(title, table, close);
    document.body.append(dialog);
    return dialog;
  }

  toggleHelp() {
    if (this.dialog.open) this.dialog.close();
    else this.dialog.showModal();
  }
}
