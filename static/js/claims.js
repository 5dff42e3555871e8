// The reading view's claims panel (templates/annotations/claim_panel.html). A passage
// selected in the text, or a highlight clicked, becomes the panel's target; "Make claim"
// turns it into a claim in one request (highlight, claim and evidence together), and
// "Attach to claim…" finds an existing claim as you type and adds the passage to it as
// evidence. The server checks every role again; hiding controls is only a courtesy.
//
// Other scripts can open the form for the current selection by dispatching
// `marginalia:make-claim` on document, or with any `[data-action="make-claim"]` button
// (the annotation popover's "Claim…"). After a save this module dispatches
// `marginalia:claim-saved` ({claim, annotation}) so the highlights can be refreshed.

import { Paragraphs } from "./annotate-anchor.js";

const SETTLE_MS = 150;
const SEARCH_DELAY_MS = 180;
const RESULTS = 8;
const QUOTE_PREVIEW = 240;

class ApiError extends Error {}

function messageOf(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.detail === "string") return body.detail;
    const parts = Object.entries(body).map(([field, value]) => {
      const text = Array.isArray(value) ? value.join(" ") : typeof value === "object" ? JSON.stringify(value) : String(value);
      return field === "non_field_errors" ? text : `${field}: ${text}`;
    });
    if (parts.length) return parts.join(" ");
  }
  return status ? `The server answered ${status}.` : "The server could not be reached.";
}

async function request(config, url, { method = "GET", body } = {}) {
  const headers = { Accept: "application/json", "X-CSRFToken": config.csrfToken };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, { method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(messageOf(0));
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(messageOf(response.status, data));
  return data;
}

function debounce(fn, ms) {
  let timer = 0;
  return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
}

function preview(text) {
  return text.length > QUOTE_PREVIEW ? `${text.slice(0, QUOTE_PREVIEW - 1)}…` : text;
}

class ClaimsPanel {
  constructor(panel) {
    this.panel = panel;
    this.config = JSON.parse(document.getElementById(panel.dataset.config).textContent);
    this.reader = document.getElementById(panel.dataset.reader);
    this.paragraphs = new Paragraphs(this.reader);
    this.target = null; // {selector: {start, end, exact?}, quote} or {annotation, quote}
    this.chosen = null; // the claim chosen in "attach"
    this.part = (name) => panel.querySelector(`[data-role="${name}"]`);
    this.forms = { make: this.part("make"), attach: this.part("attach") };
    this.wire();
  }

  wire() {
    document.addEventListener("selectionchange", debounce(() => this.fromSelection(), SETTLE_MS));
    this.reader.addEventListener("click", (event) => this.fromHighlight(event));
    this.panel.addEventListener("click", (event) => {
      const action = event.target.closest("button[data-action]")?.dataset.action;
      if (action === "make" || action === "attach") this.open(action);
      else if (action === "cancel") this.closeForms();
    });
    document.addEventListener("click", (event) => {
      if (event.target.closest('[data-action="make-claim"]')) this.open("make");
    });
    document.addEventListener("marginalia:make-claim", () => this.open("make"));
    this.forms.make.addEventListener("submit", (event) => { event.preventDefault(); this.make(); });
    this.forms.attach.addEventListener("submit", (event) => { event.preventDefault(); this.attach(); });
    const search = this.panel.querySelector("#claim-search");
    search.addEventListener("input", debounce(() => this.search(search.value), SEARCH_DELAY_MS));
    search.addEventListener("keydown", (event) => this.onSearchKey(event));
    this.results().addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(option);
    });
  }

  results() {
    return this.panel.querySelector("#claim-results");
  }

  announce(message, link) {
    const status = this.part("status");
    status.textContent = message;
    if (link) {
      const anchor = document.createElement("a");
      anchor.href = link.href;
      anchor.textContent = link.text;
      status.append(" ", anchor);
    }
  }

  // --- the target ---------------------------------------------------------------------

  fromSelection() {
    const selection = document.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return;
    const range = selection.getRangeAt(0);
    if (!this.reader.contains(range.commonAncestorContainer) && !range.intersectsNode(this.reader)) return;
    const selector = this.paragraphs.selectorOf(range);
    if (!selector) return;
    this.setTarget({ selector, quote: selector.exact ?? range.toString().trim() });
  }

  async fromHighlight(event) {
    const mark = event.target.closest("mark.hl");
    if (!mark || !document.getSelection().isCollapsed) return;
    const id = Number((mark.dataset.ids || "").split(" ").filter(Boolean).pop());
    if (!id) return;
    const known = this.knownAnnotation(id);
    const annotation = known || await request(this.config, `${this.config.api.annotations}${id}/`).catch(() => null);
    if (annotation) this.setTarget({ annotation: annotation.id, quote: annotation.exact });
  }

  knownAnnotation(id) {
    const element = document.getElementById("annotate-config");
    if (!element) return null;
    const found = JSON.parse(element.textContent).annotations || [];
    return found.find((annotation) => annotation.id === id) || null;
  }

  setTarget(target) {
    this.target = target;
    this.part("quote").textContent = `“${preview(target.quote)}”`;
    this.part("target").hidden = false;
    this.part("hint").hidden = true;
  }

  targetFields() {
    if (this.target.annotation) return { annotation: this.target.annotation };
    const { start, end, exact } = this.target.selector;
    const fields = { text: this.config.text, start, end };
    if (exact !== undefined) fields.exact = exact; // the server checks it against the text
    return fields;
  }

  // --- forms ----------------------------------------------------------------------------

  open(which) {
    if (!this.target) {
      this.announce("Select a passage in the text first, or click a highlight.");
      return;
    }
    this.forms.make.hidden = which !== "make";
    this.forms.attach.hidden = which !== "attach";
    const focus = which === "make" ? "#claim-statement" : "#claim-search";
    this.panel.querySelector(focus).focus();
  }

  closeForms() {
    this.forms.make.hidden = true;
    this.forms.attach.hidden = true;
    this.forms.make.reset();
    this.forms.attach.reset();
    this.chosen = null;
    this.part("chosen").textContent = "";
    this.showResults([]);
  }

  async make() {
    const form = this.forms.make;
    const value = (name) => form.elements[name]?.value ?? "";
    const body = {
      ...this.targetFields(),
      statement: value("statement"),
      stance: value("stance"),
      status: value("status"),
      evidence_note: value("evidence_note"),
      tags: value("tags").split(",").map((tag) => tag.trim()).filter(Boolean),
      visibility: form.elements.private?.checked ? "private" : "library",
    };
    if (value("event")) body.events = [{ event: Number(value("event")), relation: value("relation") }];
    await this.save(async () => {
      const claim = await request(this.config, this.config.api.fromHighlight, { method: "POST", body });
      await this.saved(claim, "Claim saved.");
    });
  }

  async attach() {
    if (!this.chosen) {
      this.announce("Choose a claim from the list first.");
      this.panel.querySelector("#claim-search").focus();
      return;
    }
    const form = this.forms.attach;
    const body = { ...this.targetFields(), claim: this.chosen.id, stance: form.elements.stance.value, note: form.elements.note.value };
    await this.save(async () => {
      await request(this.config, this.config.api.evidence, { method: "POST", body });
      await this.saved(this.chosen, "Passage attached to the claim.");
    });
  }

  async save(work) {
    if (this.busy) return;
    this.busy = true;
    this.panel.setAttribute("aria-busy", "true");
    try {
      await work();
    } catch (error) {
      this.announce(`Not saved. ${error.message}`);
    } finally {
      this.busy = false;
      this.panel.removeAttribute("aria-busy");
    }
  }

  async saved(claim, message) {
    const evidence = await request(this.config, `${this.config.api.evidence}?claim=${claim.id}&limit=100`).catch(() => null);
    const rows = evidence?.results || [];
    const annotation = this.target.annotation || rows.map((row) => row.annotation).pop();
    this.closeForms();
    this.announce(message, { href: claim.page, text: "Open the claim" });
    this.listClaim(claim);
    document.getSelection().removeAllRanges();
    document.dispatchEvent(new CustomEvent("marginalia:claim-saved", { detail: { claim, annotation } }));
  }

  listClaim(claim) {
    const list = this.part("list");
    list.querySelector("[data-role=none]")?.remove();
    if ([...list.querySelectorAll("a")].some((a) => a.href === claim.page)) return;
    const item = document.createElement("li");
    const anchor = document.createElement("a");
    anchor.href = claim.page;
    anchor.textContent = claim.statement;
    item.append(anchor);
    list.prepend(item);
  }

  // --- search as you type -------------------------------------------------------------------

  async search(typed) {
    const query = new URLSearchParams({ library: this.config.library, q: typed.trim(), limit: String(RESULTS) });
    try {
      const data = await request(this.config, `${this.config.api.claims}?${query}`);
      this.showResults(data.results || []);
    } catch (error) {
      this.announce(error.message);
    }
  }

  showResults(claims) {
    const list = this.results();
    const input = this.panel.querySelector("#claim-search");
    list.replaceChildren(...claims.map((claim, index) => {
      const option = document.createElement("li");
      option.id = `claim-option-${claim.id}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", index === 0 ? "true" : "false");
      option.dataset.id = claim.id;
      option.dataset.page = claim.page;
      option.textContent = claim.statement;
      return option;
    }));
    list.hidden = claims.length === 0;
    input.setAttribute("aria-expanded", claims.length ? "true" : "false");
    const active = list.querySelector('[aria-selected="true"]');
    if (active) input.setAttribute("aria-activedescendant", active.id); else input.removeAttribute("aria-activedescendant");
    if (input.value.trim() && !claims.length) this.announce("No claim matches these words.");
  }

  onSearchKey(event) {
    const options = [...this.results().querySelectorAll("[role=option]")];
    if (!options.length) return;
    const at = options.findIndex((option) => option.getAttribute("aria-selected") === "true");
    let next = at;
    if (event.key === "ArrowDown") next = Math.min(options.length - 1, at + 1);
    else if (event.key === "ArrowUp") next = Math.max(0, at - 1);
    else if (event.key === "Enter") {
      event.preventDefault();
      this.choose(options[Math.max(at, 0)]);
      return;
    } else if (event.key === "Escape") {
      this.showResults([]);
      return;
    } else return;
    event.preventDefault();
    options.forEach((option, index) => option.setAttribute("aria-selected", index === next ? "true" : "false"));
    event.target.setAttribute("aria-activedescendant", options[next].id);
  }

  choose(option) {
    this.chosen = { id: Number(option.dataset.id), page: option.dataset.page, statement: option.textContent };
    this.part("chosen").textContent = `Attach to: “${preview(this.chosen.statement)}”`;
    this.panel.querySelector("#claim-search").value = option.textContent;
    this.showResults([]);
  }
}

// Links from claim and event pages end in #annotation-N: once the highlights are painted,
// bring that quote into view and mark it.
function revealQuoteFromHash() {
  const match = /^#annotation-(\d+)$/.exec(location.hash);
  if (!match) return;
  const reveal = () => {
    const marks = document.querySelectorAll(`#reading mark.hl[data-ids~="${match[1]}"]`);
    marks.forEach((mark) => mark.classList.add("hl-target"));
    marks[0]?.scrollIntoView({ block: "center" });
    return marks.length > 0;
  };
  // The server paints the first screen's marks, but the reading view paints them again
  // when it starts (dropping the class set here): wait for it before marking.
  const annotations = document.querySelector("[data-annotate]");
  if (!annotations || annotations.dataset.state === "ready") {
    reveal();
    return;
  }
  new MutationObserver((_, observer) => {
    if (annotations.dataset.state !== "ready") return;
    observer.disconnect();
    reveal();
  }).observe(annotations, { attributes: true, attributeFilter: ["data-state"] });
}

revealQuoteFromHash();
document.querySelectorAll("[data-claims]").forEach((panel) => {
  const config = document.getElementById(panel.dataset.config);
  if (config && JSON.parse(config.textContent).canEdit) new ClaimsPanel(panel);
});
