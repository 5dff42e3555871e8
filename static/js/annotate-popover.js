// The small dialog that appears beside a selection: Highlight at once, or open a form
// to Comment (Markdown) and Tag. It does not steal focus while the reader is still
// extending a selection with the keyboard; Enter moves focus into it, Esc closes it and
// gives focus back.

import { TagEditor } from "./annotate-tags.js";

const QUOTE_PREVIEW = 140;
const GAP_PX = 8;

export class Popover {
  /** `save(selector, fields)` resolves once the annotation is stored, or throws an ApiError. */
  constructor({ template, save, suggest, colours }) {
    this.el = template.content.firstElementChild.cloneNode(true);
    this.save = save;
    this.selector = null;
    this.returnFocus = null;
    this.part = (name) => this.el.querySelector(`[data-role="${name}"]`);
    this.tags = new TagEditor({ suggest, colours });
    this.part("tags").replaceWith(this.tags.el);
    // "Claim…" hands the selection to the claims panel (static/js/claims.js), when present.
    this.el.querySelector("[data-action=make-claim]").hidden = !document.querySelector("[data-claims]");
    document.body.append(this.el);
    // Pressing a button must neither clear the selection nor move focus out of the text;
    // the fields of the form take focus as usual.
    this.el.addEventListener("mousedown", (event) => {
      if (!event.target.closest("input, textarea, label")) event.preventDefault();
    });
    this.el.addEventListener("click", (event) => this.onClick(event));
    this.el.addEventListener("keydown", (event) => this.onKey(event));
    this.part("form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit();
    });
  }

  get isOpen() {
    return !this.el.hidden;
  }

  hasFocus() {
    return this.el.contains(document.activeElement);
  }

  hasDraft() {
    return this.isOpen && (this.part("comment").value.trim() !== "" || this.tags.values().length > 0);
  }

  /** Show for `selector` ({start, end, exact?}) beside `range`, without taking focus. */
  open(selector, range, quote) {
    this.selector = selector;
    const preview = quote.length > QUOTE_PREVIEW ? `${quote.slice(0, QUOTE_PREVIEW - 1)}…` : quote;
    this.part("quote").textContent = `“${preview}”`;
    this.part("form").hidden = true;
    this.part("actions").hidden = false;
    this.setError("");
    if (this.el.hidden) performance.mark("annotate:popover");
    this.el.hidden = false;
    this.place(range);
  }

  place(range) {
    const rects = range.getClientRects();
    const rect = rects.length ? rects[rects.length - 1] : range.getBoundingClientRect();
    const { offsetWidth: width, offsetHeight: height } = this.el;
    const viewport = document.documentElement;
    const left = Math.max(GAP_PX, Math.min(rect.left, viewport.clientWidth - width - GAP_PX));
    // Below the selection's last line, or above its first when there is no room below.
    const below = rect.bottom + GAP_PX;
    const top = below + height > viewport.clientHeight && rects.length
      ? Math.max(GAP_PX, rects[0].top - height - GAP_PX) : below;
    this.el.style.left = `${left + window.scrollX}px`;
    this.el.style.top = `${top + window.scrollY}px`;
  }

  /** Move focus into the dialog (Enter from the text), remembering where it was. */
  enter() {
    if (!this.hasFocus()) this.returnFocus = document.activeElement;
    this.part("actions").querySelector("button").focus();
  }

  /** Esc: close, and stay closed for this selection until it changes (the selection is
   * still there, and the next settle would otherwise open the popover again). */
  dismiss() {
    if (this.selector) this.dismissed = { start: this.selector.start, end: this.selector.end };
    this.close({ restoreFocus: true });
  }

  /** Was the popover dismissed for this very selection? Another selection forgets it. */
  wasDismissed(selector) {
    const same = this.dismissed && selector
      && this.dismissed.start === selector.start && this.dismissed.end === selector.end;
    if (!same) this.dismissed = null;
    return Boolean(same);
  }

  close({ restoreFocus = false } = {}) {
    if (!this.isOpen) return;
    const hadFocus = this.hasFocus();
    this.el.hidden = true;
    this.selector = null;
    this.part("comment").value = "";
    this.part("private").checked = false;
    this.tags.set([]);
    this.tags.input.value = "";
    this.tags.closeList();
    if ((restoreFocus || hadFocus) && this.returnFocus?.isConnected) {
      this.returnFocus.focus({ preventScroll: true });
    }
    this.returnFocus = null;
  }

  onClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    if (!this.returnFocus && !this.hasFocus()) this.returnFocus = document.activeElement;
    const action = button.dataset.action;
    if (action === "highlight") this.submit();
    else if (action === "comment") this.expand(this.part("comment"));
    else if (action === "tag") this.expand(this.tags.input);
    else if (action === "cancel") this.close({ restoreFocus: true });
    else if (action === "make-claim") this.close();
  }

  onKey(event) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    this.dismiss();
  }

  expand(focusTarget) {
    this.part("actions").hidden = true;
    this.part("form").hidden = false;
    focusTarget.focus();
  }

  setError(message) {
    const box = this.part("error");
    box.textContent = message;
    box.hidden = !message;
  }

  async submit() {
    if (!this.selector || this.busy) return;
    this.busy = true;
    this.el.setAttribute("aria-busy", "true");
    const fields = {
      comment: this.part("comment").value,
      tags: this.tags.values(),
      visibility: this.part("private").checked ? "private" : "library",
    };
    try {
      await this.save(this.selector, fields);
      this.close({ restoreFocus: true });
    } catch (error) {
      this.setError(error.message);
    } finally {
      this.busy = false;
      this.el.removeAttribute("aria-busy");
    }
  }
}
