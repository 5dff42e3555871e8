// The side list: one card per annotation in document order, filters by tag and by
// annotator, editing with If-Match, deleting with a few seconds to undo, the orphans
// that lost their passage when the text was revised, the notes on the whole text, and
// on each card its thread of replies (annotate-threads.js).

import { chip, TagEditor } from "./annotate-tags.js";
import { ThreadIndex, Threads } from "./annotate-threads.js";

export const UNDO_SECONDS = 6;
const LIST_CHUNK = 50;
const QUOTE_PREVIEW = 400;
const STATE_LABELS = {
  moved: ["Moved", "Found at a new place after the text was revised."],
  fuzzy: ["Fuzzy", "Matched approximately after the text was revised; check the passage."],
  orphaned: ["Orphaned", "Its passage was not found in the revised text."],
};
const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });

const byDocumentOrder = (a, b) => a.start - b.start || a.end - b.end || a.id - b.id;
const casefold = (s) => s.toLowerCase();

/** The reading view's annotations, with the filter and the deletions waiting for undo. */
export class Store {
  constructor(annotations, orphans, currentTextId, { replies = [], notes = [] } = {}) {
    this.byId = new Map();
    this.orphans = new Map(orphans.map((a) => [a.id, a]));
    this.threads = new ThreadIndex(replies); // replies live in their threads, not the list
    this.notes = new Map(notes.map((a) => [a.id, a])); // on the whole text: their own section
    this.textId = currentTextId;
    this.waiting = new Map(); // id → {annotation, timer}: deleted, not yet sent
    this.filter = { tag: "", creator: "" };
    annotations.forEach((a) => this.byId.set(a.id, a));
    this.sorted = null;
  }

  put(annotation) {
    this.sorted = null;
    if (annotation.reply_to) {
      this.threads.put(annotation);
    } else if (annotation.whole_text) {
      this.notes.set(annotation.id, annotation);
    } else if (annotation.text === this.textId) {
      this.orphans.delete(annotation.id);
      this.byId.set(annotation.id, annotation);
    } else {
      this.byId.delete(annotation.id);
      this.orphans.set(annotation.id, annotation);
    }
  }

  drop(id) {
    this.sorted = null;
    this.byId.delete(id);
    this.orphans.delete(id);
    this.notes.delete(id);
    this.threads.drop(id); // its replies go with it
  }

  get(id) {
    return this.byId.get(id) || this.orphans.get(id) || this.notes.get(id) || this.threads.get(id);
  }

  /** The annotation or note whose card holds `id` (itself, or the root of its thread). */
  cardOf(id) {
    const root = this.threads.has(id) ? this.threads.path(id)[0] : id;
    return this.byId.get(root) || this.orphans.get(root) || this.notes.get(root);
  }

  ordered() {
    if (!this.sorted) this.sorted = [...this.byId.values()].sort(byDocumentOrder);
    return this.sorted;
  }

  matches(annotation) {
    const { tag, creator } = this.filter;
    if (creator && annotation.creator?.username !== creator) return false;
    if (tag && !annotation.tags.some((t) => casefold(t) === casefold(tag))) return false;
    return true;
  }

  /** What the text shows: filtered, not waiting to be deleted. */
  shown() {
    return this.ordered().filter((a) => !this.waiting.has(a.id) && this.matches(a));
  }
}

export class AnnotationList {
  /** `suggest(typed)` feeds tag autocomplete; `currentSelector()` is the text selected now. */
  constructor({ panel, store, api, config, painter, announce, suggest, currentSelector }) {
    Object.assign(this, { panel, store, api, config, painter, announce, suggest, currentSelector });
    this.part = (name) => panel.querySelector(`[data-role="${name}"]`);
    this.template = panel.querySelector("template[data-role=card-template]");
    this.list = this.part("list");
    this.moreItem = this.part("more");
    this.cards = new Map(); // id → card element, built once, kept while the annotation lives
    this.threads = new Threads({ index: store.threads, api, config, announce });
    this.sequence = []; // the listed annotations (filtered, in document order)
    this.rendered = 0; // cards are added to the list in chunks, as it is scrolled
    this.part("filter-tag").addEventListener("change", (e) => this.setFilter("tag", e.target.value));
    this.part("filter-creator").addEventListener("change", (e) => this.setFilter("creator", e.target.value));
    panel.addEventListener("click", (event) => this.onClick(event));
    // Pressing "Re-attach to selection" must not clear the selection it reads.
    panel.addEventListener("mousedown", (event) => {
      if (event.target.closest("[data-action=reattach]")) event.preventDefault();
    });
    window.addEventListener("pagehide", () => this.flushDeletions());
    this.watchEnd();
  }

  renderAll() {
    this.renderNotes();
    this.renderOrphans();
    this.renderFilters();
    this.relist();
  }

  // Thousands of cards cost seconds of style and layout: list a chunk, and the next one
  // when the end of the list scrolls near (or "Show more" is pressed).
  watchEnd() {
    this.moreItem.querySelector("button").addEventListener("click", () => this.renderMore(LIST_CHUNK));
    if (!("IntersectionObserver" in window)) return;
    const observer = new IntersectionObserver((entries) => {
      if (!entries.some((entry) => entry.isIntersecting)) return;
      this.renderMore(LIST_CHUNK);
      observer.unobserve(this.moreItem); // observing again reports whether it is still near
      observer.observe(this.moreItem);
    }, { root: this.list, rootMargin: "400px" });
    observer.observe(this.moreItem);
  }

  relist() {
    this.sequence = this.store.ordered().filter((a) => this.store.matches(a));
    this.rendered = 0;
    this.list.replaceChildren(this.moreItem);
    this.renderMore(LIST_CHUNK);
    this.updateCount();
  }

  renderMore(count) {
    const next = this.sequence.slice(this.rendered, this.rendered + count);
    const fragment = document.createDocumentFragment();
    next.forEach((a) => fragment.append(this.card(a)));
    this.list.insertBefore(fragment, this.moreItem);
    this.rendered += next.length;
    this.updateMore();
  }

  updateMore() {
    const left = this.sequence.length - this.rendered;
    this.moreItem.hidden = left <= 0;
    this.moreItem.querySelector("button").textContent = `Show ${Math.min(left, LIST_CHUNK)} more of ${left}`;
  }

  /** Make sure the card of `id` is in the list (it may lie beyond the chunks shown). */
  ensureListed(id) {
    const index = this.sequence.findIndex((a) => a.id === id);
    if (index >= this.rendered) this.renderMore(index + 1 - this.rendered);
  }

  // --- cards ------------------------------------------------------------------------

  card(annotation) {
    let card = this.cards.get(annotation.id);
    if (!card) {
      card = this.template.content.firstElementChild.cloneNode(true);
      card.dataset.id = String(annotation.id);
      // copy-citation.js fetches the passage's footnote from here when the button is pressed.
      card.querySelector("[data-copy-citation]").dataset.citationUrl =
        `${this.config.api.annotations}${annotation.id}/citation/`;
      const quoteId = `annotation-quote-${annotation.id}`;
      card.querySelector("[data-role=quote]").id = quoteId;
      // Many cards have an "Edit" button: each one says which passage it edits.
      for (const b of card.querySelectorAll("button[data-action]")) b.setAttribute("aria-describedby", quoteId);
      this.cards.set(annotation.id, card);
    }
    this.fill(card, annotation);
    return card;
  }

  fill(card, a) {
    const get = (name) => card.querySelector(`[data-role="${name}"]`);
    // A region of a page quotes no words: the card names its page (the page view shows it).
    const words = a.region ? `Region of page ${a.page + 1}` : a.exact;
    const quote = words.length > QUOTE_PREVIEW ? `${words.slice(0, QUOTE_PREVIEW - 1)}…` : words;
    get("quote").textContent = quote;
    get("quote").hidden = a.whole_text; // a note on the whole text quotes nothing
    card.classList.toggle("ann-note", a.whole_text);
    get("comment").innerHTML = a.comment_html; // bleach-sanitised by the server on write
    get("comment").hidden = !a.comment_html;
    get("tags").replaceChildren(...a.tags.map((name) => chip(name, this.config.colours)));
    get("tags").hidden = a.tags.length === 0;
    get("creator").textContent = a.creator?.username || "a former member";
    get("date").dateTime = a.created;
    get("date").textContent = dateFormat.format(new Date(a.created));
    const state = STATE_LABELS[a.state];
    get("state").hidden = !state;
    if (state) {
      const score = `${Math.round(a.anchor_score * 100)} %`;
      get("state").textContent = a.state === "fuzzy" ? `${state[0]} ${score}` : state[0];
      get("state").title = state[1];
      get("state").dataset.state = a.state;
    }
    get("private").hidden = a.visibility !== "private";
    const editable = this.config.canAnnotate && a.can_edit;
    for (const b of card.querySelectorAll("[data-action=edit], [data-action=delete]")) b.hidden = !editable;
    card.querySelector("[data-action=reattach]").hidden = !(editable && a.text !== this.store.textId);
    card.querySelector("[data-action=show]").hidden = a.text !== this.store.textId || !!a.region || a.whole_text;
    card.querySelector("[data-copy-citation]").hidden = a.whole_text;
    card.classList.toggle("is-mine", a.creator?.id === this.config.user?.id);
    this.threads.render(card, a);
  }

  /** Add or refresh one annotation's card, in document order. */
  put(annotation) {
    if (annotation.reply_to) return this.putReply(annotation);
    if (annotation.whole_text) return this.putNote(annotation);
    const wasOrphan = this.store.orphans.has(annotation.id);
    this.unlist(annotation.id);
    this.store.put(annotation);
    const card = this.card(annotation);
    if (wasOrphan || annotation.text !== this.store.textId) this.renderOrphans();
    if (annotation.text === this.store.textId && this.store.matches(annotation)) {
      const index = insertionIndex(this.sequence, annotation);
      this.sequence.splice(index, 0, annotation);
      if (index <= this.rendered) {
        const before = index < this.rendered ? this.cards.get(this.sequence[index + 1].id) : this.moreItem;
        this.list.insertBefore(card, before);
        this.rendered++;
      }
    }
    this.updateMore();
    this.renderFilters();
    this.updateCount();
    return card;
  }

  // Take an annotation's card out of the listed sequence (it stays built).
  unlist(id) {
    const index = this.sequence.findIndex((a) => a.id === id);
    if (index < 0) return;
    this.sequence.splice(index, 1);
    if (index < this.rendered) {
      this.rendered--;
      this.cards.get(id)?.remove();
    }
  }

  /** A reply: on the card of its thread. */
  putReply(reply) {
    this.store.put(reply);
    const root = this.store.cardOf(reply.id);
    const card = root && this.cards.get(root.id);
    if (card) this.threads.render(card, root);
    return card;
  }

  putNote(note) {
    this.store.put(note);
    const card = this.card(note);
    this.renderNotes();
    return card;
  }

  renderNotes() {
    const notes = [...this.store.notes.values()].sort((a, b) => a.created.localeCompare(b.created) || a.id - b.id);
    const section = this.part("notes");
    if (!section) return;
    section.hidden = notes.length === 0 && !this.config.canAnnotate;
    this.part("note-list").replaceChildren(...notes.map((a) => this.card(a)));
    const shown = notes.filter((a) => !this.store.waiting.has(a.id)).length;
    this.part("note-count").textContent = shown ? String(shown) : "";
    this.part("notes-empty").hidden = shown > 0;
  }

  removeCard(id) {
    const wasNote = this.store.notes.has(id);
    this.unlist(id);
    this.cards.get(id)?.remove();
    this.cards.delete(id);
    const wasOrphan = this.store.orphans.has(id);
    this.store.drop(id);
    if (wasOrphan) this.renderOrphans();
    if (wasNote) this.renderNotes();
    this.updateMore();
    this.renderFilters();
    this.updateCount();
  }

  renderOrphans() {
    const orphans = [...this.store.orphans.values()].sort((a, b) => a.id - b.id);
    this.part("orphans").hidden = orphans.length === 0;
    this.part("orphan-list").replaceChildren(...orphans.map((a) => this.card(a)));
  }

  // --- filters ----------------------------------------------------------------------

  renderFilters() {
    const tags = new Map();
    const creators = new Set();
    for (const a of this.store.ordered()) {
      a.tags.forEach((t) => tags.set(casefold(t), tags.get(casefold(t)) || t));
      if (a.creator) creators.add(a.creator.username);
    }
    const tagNames = [...tags.values()].sort((x, y) => x.localeCompare(y));
    fillSelect(this.part("filter-tag"), tagNames, this.store.filter.tag);
    fillSelect(this.part("filter-creator"), [...creators].sort(), this.store.filter.creator);
  }

  clearFilters() {
    this.store.filter = { tag: "", creator: "" };
    this.part("filter-tag").value = "";
    this.part("filter-creator").value = "";
    this.relist();
  }

  setFilter(name, value) {
    this.store.filter[name] = value;
    this.relist();
    this.painter.refresh();
  }

  updateCount() {
    const waiting = (list) => list.filter((a) => this.store.waiting.has(a.id)).length;
    const all = this.store.ordered();
    const total = all.length - waiting(all);
    const shown = this.sequence.length - waiting(this.sequence);
    const filtered = this.store.filter.tag || this.store.filter.creator;
    this.part("count").textContent = filtered ? `${shown} of ${total}` : String(total);
    this.part("empty").hidden = total > 0;
  }

  // --- focus between text and list --------------------------------------------------

  /** From a highlight: bring its card into view and focus it. */
  focusCard(id) {
    this.ensureListed(id);
    const card = this.cards.get(id);
    const annotation = this.store.get(id);
    if (!card || !annotation) return;
    this.markFocused(card);
    this.painter.focus(annotation);
    card.scrollIntoView({ block: "nearest" });
    card.focus({ preventScroll: true });
  }

  /** From a card: scroll its highlight into view and outline it. */
  showInText(id) {
    const annotation = this.store.get(id);
    if (!annotation || annotation.text !== this.store.textId) return;
    this.markFocused(this.cards.get(id));
    const marks = this.painter.focus(annotation);
    marks[0]?.scrollIntoView({ block: "center" });
  }

  markFocused(card) {
    this.panel.querySelectorAll(".ann-card.is-focused").forEach((c) => c.classList.remove("is-focused"));
    card?.classList.add("is-focused");
  }

  onClick(event) {
    if (event.target.closest("[data-action=add-note]")) {
      this.openNoteForm();
      return;
    }
    const card = event.target.closest(".ann-card");
    if (!card) return;
    const id = Number(card.dataset.id);
    const root = this.store.get(id);
    if (root && this.threads.onClick(event, card, id, () => this.threads.render(card, this.store.get(id)))) return;
    const button = event.target.closest("button[data-action]");
    if (!button) {
      if (!event.target.closest("a, form, .ann-undo")) this.showInText(id);
      return;
    }
    const action = button.dataset.action;
    if (action === "show") this.showInText(id);
    else if (action === "edit") this.edit(card, id);
    else if (action === "delete") this.scheduleDelete(card, id);
    else if (action === "undo") this.undoDelete(card, id);
    else if (action === "reattach") this.reattach(card, id);
  }

  // --- editing ----------------------------------------------------------------------

  edit(card, id) {
    if (card.querySelector("form.ann-edit")) return;
    const annotation = this.store.get(id);
    const form = document.createElement("form");
    form.className = "ann-edit";
    form.setAttribute("aria-label", "Edit annotation");
    const label = document.createElement("label");
    label.htmlFor = `annotation-edit-${id}`;
    label.textContent = "Comment (Markdown)";
    const textarea = document.createElement("textarea");
    Object.assign(textarea, { id: label.htmlFor, rows: 4, value: annotation.comment });
    const tags = new TagEditor({ suggest: this.suggest, colours: this.config.colours });
    tags.set(annotation.tags);
    const buttons = document.createElement("p");
    buttons.className = "ann-buttons";
    buttons.append(button("Save", "submit"), button("Cancel", "button", "secondary"));
    form.append(label, textarea, tags.el, buttons);
    buttons.lastElementChild.addEventListener("click", () => this.closeEditor(card));
    form.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      this.closeEditor(card);
    });
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      this.saveEdit(card, id, { comment: textarea.value, tags: tags.values() });
    });
    card.querySelector("[data-role=body]").hidden = true;
    card.querySelector("[data-role=actions]").hidden = true;
    card.append(form);
    textarea.focus();
  }

  closeEditor(card) {
    card.querySelector("form.ann-edit")?.remove();
    card.querySelector("[data-role=body]").hidden = false;
    card.querySelector("[data-role=actions]").hidden = false;
    card.focus();
  }

  async saveEdit(card, id, fields) {
    this.message(card, "");
    try {
      const saved = await this.api.update(this.store.get(id), fields);
      this.put(saved);
      this.painter.refresh();
      this.closeEditor(card);
      this.announce("Annotation saved.");
    } catch (error) {
      const advice = "Your edit is still in the form: save again to replace that version.";
      await this.failed(card, id, error, advice);
    }
  }

  // A refused change: say why in words, and show what the server holds now.
  async failed(card, id, error, advice) {
    if (error.status === 404) {
      this.removeCard(id);
      this.painter.refresh();
      this.announce("That annotation no longer exists; it was deleted elsewhere.");
      return;
    }
    if (error.status !== 412) {
      this.message(card, error.message);
      return;
    }
    try {
      const current = await this.api.get(this.store.get(id));
      this.store.put(current);
      const listed = this.sequence.findIndex((a) => a.id === id);
      if (listed >= 0) this.sequence[listed] = current;
      this.fill(card, current);
      card.querySelector("[data-role=body]").hidden = false;
      this.painter.refresh();
    } catch (reload) {
      this.message(card, reload.message);
      return;
    }
    this.message(card, `This annotation was changed elsewhere (in another tab or by another person) `
      + `since it was loaded. The current version is shown. ${advice}`);
  }

  message(card, text) {
    const box = card.querySelector("[data-role=message]");
    box.textContent = text;
    box.hidden = !text;
  }

  // --- deleting, with undo ----------------------------------------------------------

  scheduleDelete(card, id) {
    const annotation = this.store.get(id);
    const timer = setTimeout(() => this.sendDelete(id), UNDO_SECONDS * 1000);
    this.store.waiting.set(id, { annotation, timer });
    card.classList.add("is-deleted");
    card.querySelector("[data-role=body]").hidden = true;
    card.querySelector("[data-role=actions]").hidden = true;
    const undo = card.querySelector("[data-role=undo]");
    undo.hidden = false;
    undo.querySelector("button").focus();
    this.painter.refresh();
    this.updateCount();
    this.announce(`Annotation deleted. Undo within ${UNDO_SECONDS} seconds.`);
  }

  undoDelete(card, id) {
    const waiting = this.store.waiting.get(id);
    if (!waiting) return;
    clearTimeout(waiting.timer);
    this.store.waiting.delete(id);
    this.restoreCard(card);
    this.painter.refresh();
    this.updateCount();
    card.focus();
    this.announce("Deletion undone.");
  }

  restoreCard(card) {
    card.classList.remove("is-deleted");
    card.querySelector("[data-role=body]").hidden = false;
    card.querySelector("[data-role=actions]").hidden = false;
    card.querySelector("[data-role=undo]").hidden = true;
  }

  async sendDelete(id, { withEvidence = false, withReplies = false } = {}) {
    const waiting = this.store.waiting.get(id);
    if (!waiting) return;
    try {
      await this.api.remove(waiting.annotation, { withEvidence, withReplies });
      this.store.waiting.delete(id);
      this.removeCard(id);
    } catch (error) {
      this.store.waiting.delete(id);
      const card = this.cards.get(id);
      if (error.status === 404) {
        this.removeCard(id);
      } else if (error.status === 409 && card && error.body?.replies) {
        this.restoreCard(card);
        this.offerDeleteWith(card, id, error.message, "Delete with its replies", { withReplies: true });
      } else if (error.status === 409 && card) {
        this.restoreCard(card);
        this.offerDeleteWith(card, id, error.message, "Delete with its evidence", { withEvidence: true });
      } else if (card) {
        this.restoreCard(card);
        await this.failed(card, id, error, "It was not deleted; delete it again if you still want to.");
      }
      this.painter.refresh();
      this.updateCount();
    }
  }

  /** A claim's evidence, or others' replies, are not taken away in passing: say so, and
   * let the reader choose. */
  offerDeleteWith(card, id, text, label, how) {
    this.message(card, text);
    const box = card.querySelector("[data-role=message]");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "secondary";
    button.textContent = label;
    button.addEventListener("click", () => {
      this.message(card, "");
      this.store.waiting.set(id, { annotation: this.store.get(id), timer: null });
      this.sendDelete(id, how);
    });
    box.append(" ", button);
    this.announce(text);
  }

  /** Leaving the page must not lose a deletion the reader let stand. */
  flushDeletions() {
    for (const [id, { annotation, timer }] of this.store.waiting) {
      clearTimeout(timer);
      this.api.remove(annotation, { keepalive: true }).catch(() => {});
      this.store.waiting.delete(id);
    }
  }

  // --- notes on the whole text -------------------------------------------------------

  /** The form for a new note on the whole text (Hypothesis' page note). */
  openNoteForm() {
    const section = this.part("notes");
    const open = section.querySelector("form.ann-note-form");
    if (open) {
      open.querySelector("textarea").focus();
      return;
    }
    const form = document.createElement("form");
    form.className = "ann-edit ann-note-form";
    form.setAttribute("aria-label", "New note on the whole text");
    const label = document.createElement("label");
    label.htmlFor = "ann-new-note";
    label.textContent = "Note on the whole text (Markdown)";
    const textarea = document.createElement("textarea");
    Object.assign(textarea, { id: label.htmlFor, rows: 4 });
    const tags = new TagEditor({ suggest: this.suggest, colours: this.config.colours });
    const privately = document.createElement("label");
    privately.className = "check";
    const box = document.createElement("input");
    box.type = "checkbox";
    privately.append(box, " Only me (private note)");
    const buttons = document.createElement("p");
    buttons.className = "ann-buttons";
    buttons.append(button("Save note", "submit"), button("Cancel", "button", "secondary"));
    const message = document.createElement("p");
    message.className = "ann-message";
    message.setAttribute("role", "alert");
    message.hidden = true;
    form.append(label, textarea, tags.el, privately, buttons, message);
    const adder = section.querySelector("[data-action=add-note]");
    const close = () => {
      form.remove();
      adder.hidden = false;
      adder.focus();
    };
    buttons.lastElementChild.addEventListener("click", close);
    form.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      close();
    });
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const fields = {
        text: this.config.text, whole_text: true, comment: textarea.value, tags: tags.values(),
        visibility: box.checked ? "private" : "library",
      };
      if (!fields.comment.trim() && !fields.tags.length) {
        message.textContent = "Write the note (or give it a tag) first.";
        message.hidden = false;
        return;
      }
      try {
        const created = await this.api.create(fields);
        form.remove();
        adder.hidden = false;
        this.putNote(created);
        this.cards.get(created.id)?.focus();
        this.announce("Note saved.");
      } catch (error) {
        message.textContent = error.message;
        message.hidden = false;
      }
    });
    adder.hidden = true;
    (adder.closest("p") || adder).after(form);
    textarea.focus();
  }

  // --- links to one annotation or reply (#annotation-N: search hits, history, claims) --

  /** Bring the card of `#annotation-N` into view, its thread open at the reply if it is one. */
  revealFromHash(hash = location.hash) {
    const match = /^#annotation-(\d+)$/.exec(hash);
    const id = match && Number(match[1]);
    const root = id && this.store.cardOf(id);
    if (!root) return false;
    this.ensureListed(root.id);
    const card = this.cards.get(root.id);
    if (!card) return false;
    this.markFocused(card);
    if (id === root.id) {
      card.scrollIntoView({ block: "nearest" });
      card.focus({ preventScroll: true });
      return true;
    }
    const focus = this.threads.reveal(card, root.id, id);
    this.threads.render(card, root);
    card.scrollIntoView({ block: "nearest" });
    focus();
    return true;
  }

  // --- orphans ----------------------------------------------------------------------

  async reattach(card, id) {
    const selector = this.currentSelector();
    if (!selector) {
      this.message(card, "First select the passage in the text, then press “Re-attach to selection”.");
      return;
    }
    this.message(card, "");
    try {
      const saved = await this.api.reattach(this.store.get(id), { text: this.store.textId, ...selector });
      this.cards.delete(id);
      card.remove();
      this.put(saved);
      this.painter.refresh();
      this.announce("Annotation re-attached.");
      this.focusCard(saved.id);
    } catch (error) {
      await this.failed(card, id, error, "Select the passage and re-attach it again.");
    }
  }
}

function button(text, type, extraClass = "") {
  const el = document.createElement("button");
  el.type = type;
  el.textContent = text;
  if (extraClass) el.className = extraClass;
  return el;
}

// Where `annotation` goes in a list kept in document order.
function insertionIndex(list, annotation) {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (byDocumentOrder(list[mid], annotation) < 0) lo = mid + 1; else hi = mid;
  }
  return lo;
}

function fillSelect(select, values, chosen) {
  const first = select.options[0];
  const options = values.map((value) => new Option(value, value, false, value === chosen));
  select.replaceChildren(first, ...options);
  if (chosen && !values.includes(chosen)) select.append(new Option(chosen, chosen, false, true));
}
