// The annotating reading view. Attaches to `[data-annotate]` (templates/annotations/
// _reader.html), which names the reading container and the json_script config. Editors
// select text (mouse, or caret browsing with Shift+arrows) to highlight, comment and
// tag; everyone who may read sees the highlights and the side list. The server checks
// every role again: hiding controls is a courtesy, not the protection.

import { Api } from "./annotate-api.js";
import { Paragraphs } from "./annotate-anchor.js";
import { AnnotationList, Store } from "./annotate-list.js";
import { Shortcuts } from "./annotate-keys.js";
import { Painter } from "./annotate-paint.js";
import { Popover } from "./annotate-popover.js";
import { streamRest } from "./annotate-stream.js";

const SELECTION_SETTLE_MS = 200;
const CONTROLS = "a[href], button, input, textarea, select, [contenteditable]";

function start(panel) {
  const reader = document.getElementById(panel.dataset.reader);
  const configElement = document.getElementById(panel.dataset.config);
  if (!reader || !configElement) return;
  const config = JSON.parse(configElement.textContent);
  const api = new Api(config);
  const paragraphs = new Paragraphs(reader);
  const store = new Store(config.annotations, config.orphans, config.text, config);
  const painter = new Painter(paragraphs, () => store.shown());
  const status = panel.querySelector("[data-role=status]");
  const announce = (message) => { status.textContent = message; };
  const suggest = (typed) => api.suggestTags(config.library, typed);
  const currentSelector = () => selectedIn(reader, paragraphs);
  const list = new AnnotationList({ panel, store, api, config, painter, announce, suggest, currentSelector });

  painter.start().then(async () => {
    const detail = { annotations: store.byId.size, paragraphs: painter.painted.size };
    performance.mark("annotate:painted", { detail });
    panel.dataset.state = "ready";
    await streamRest({ reader, config, paragraphs, painter, store, list, announce });
    panel.dataset.loaded = "all";
    list.revealFromHash(); // a link to a reply (a search hit) opens its thread
  });
  list.renderAll();
  reader.addEventListener("click", highlightClicks(store, list));
  let popover = null;
  if (config.canAnnotate) {
    popover = new Popover({
      template: panel.querySelector("template[data-role=popover-template]"),
      save: (selector, fields) => create({ api, config, store, list, painter, announce }, selector, fields),
      suggest,
      colours: config.colours,
    });
    watchSelection(reader, paragraphs, popover, announce);
  }
  new Shortcuts({ reader, panel, store, list, painter, popover, announce });
  // The claims panel may create a highlight (claim → evidence → annotation): show it.
  document.addEventListener("marginalia:claim-saved", async (event) => {
    const ref = event.detail?.annotation;
    const id = typeof ref === "object" && ref ? ref.id : Number(ref);
    if (!id) return;
    const annotation = await api.get({ id }).catch(() => null);
    if (annotation?.text !== config.text) return;
    list.put(annotation);
    painter.refresh();
  });
}

/** The selector of the current selection inside the reading view, or null. */
function selectedIn(reader, paragraphs) {
  const selection = document.getSelection();
  if (!selection.rangeCount || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  return range.intersectsNode(reader) ? paragraphs.selectorOf(range) : null;
}

async function create({ api, config, store, list, painter, announce }, selector, fields) {
  const body = { text: config.text, start: selector.start, end: selector.end, ...fields };
  if (selector.exact !== undefined) body.exact = selector.exact; // the server checks it
  const created = await api.create(body);
  if (!store.matches(created)) list.clearFilters();
  list.put(created);
  painter.refresh();
  document.getSelection().removeAllRanges();
  performance.mark("annotate:saved", { detail: { id: created.id } });
  announce(fields.comment || fields.tags.length ? "Annotation saved." : "Highlight saved.");
}

// Show the popover once a selection stops changing: at pointer release for the mouse,
// after a short pause for Shift+arrow selections.
function watchSelection(reader, paragraphs, popover, announce) {
  let timer = 0;
  let dragging = false;
  const check = () => {
    if (dragging || popover.hasFocus() || popover.hasDraft()) return;
    const selector = selectedIn(reader, paragraphs);
    if (popover.wasDismissed(selector)) return;
    if (!selector) {
      popover.close();
      return;
    }
    const range = document.getSelection().getRangeAt(0);
    const wasOpen = popover.isOpen;
    popover.open(selector, range, selector.exact ?? range.toString().trim());
    if (!wasOpen) announce("Passage selected. Press Enter to highlight, comment or tag it.");
  };
  const schedule = (delay) => {
    clearTimeout(timer);
    timer = setTimeout(check, delay);
  };
  document.addEventListener("selectionchange", () => schedule(SELECTION_SETTLE_MS));
  reader.addEventListener("pointerdown", () => { dragging = true; });
  document.addEventListener("pointerup", () => {
    if (!dragging) return;
    dragging = false;
    schedule(0);
  });
  document.addEventListener("keydown", (event) => {
    if (!popover.isOpen || popover.hasFocus()) return;
    if (event.key === "Escape") {
      popover.dismiss();
    } else if (event.key === "Enter" && !event.altKey && !event.ctrlKey && !event.metaKey
      && !document.activeElement?.closest(CONTROLS)) {
      event.preventDefault();
      popover.enter();
    }
  });
}

// A click on highlighted text focuses the innermost annotation's card; clicking the same
// run again steps through the others that cover it.
function highlightClicks(store, list) {
  let lastMark = null;
  let lastId = null;
  return (event) => {
    const mark = event.target.closest("mark.hl");
    if (!mark || !document.getSelection().isCollapsed) return;
    const covering = mark.dataset.ids.split(" ").map(Number).map((id) => store.get(id)).filter(Boolean)
      .sort((a, b) => a.end - a.start - (b.end - b.start) || a.id - b.id);
    if (!covering.length) return;
    let next = covering[0];
    if (mark === lastMark) {
      const at = covering.findIndex((a) => a.id === lastId);
      next = covering[(at + 1) % covering.length];
    }
    lastMark = mark;
    lastId = next.id;
    list.focusCard(next.id);
  };
}

document.querySelectorAll("[data-annotate]").forEach(start);
