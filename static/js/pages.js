// The page view: each page's image with an invisible text layer laid from the stored word
// boxes, so that words selected on the image become the same annotation (code points of
// the revision's text) as in the text view, through the same annotation API; and the
// text's highlights drawn over their words. Pages load lazily: the browser fetches the
// images as they near the viewport (loading="lazy", srcset for the screen's density), and
// this module fetches a page's words only then.

import { OffsetMap } from "./codepoints.js";

const NEAR = "150% 0px"; // lay a page's words this far before it scrolls into view
const BOX_UNITS = 10000; // stored boxes are in ten-thousandths of the page
const FILL = 0.82; // a word's type fills this much of its box's height

function percent(value) {
  return `${(value / BOX_UNITS) * 100}%`;
}

class Page {
  constructor(element, view) {
    this.element = element;
    this.view = view;
    this.id = Number(element.dataset.page);
    this.start = Number(element.dataset.start);
    this.end = Number(element.dataset.end);
    this.layer = element.querySelector("[data-role=text]");
    this.index = Number(element.dataset.index);
    this.label = element.dataset.label;
    this.sheet = element.querySelector(".page-sheet");
    this.marks = element.querySelector("[data-role=highlights]");
    this.regions = element.querySelector("[data-role=regions]");
    this.words = null;
    this.loading = null;
  }

  load() {
    this.loading ||= fetch(this.element.dataset.words, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    })
      .then((response) => (response.ok ? response.json() : Promise.reject(response.status)))
      .then((data) => {
        this.text = data.text;
        this.map = new OffsetMap(data.text);
        this.words = data.words;
        this.lay();
        this.paint();
      });
    return this.loading;
  }

  /** One transparent span a word, over its ink, holding the word's text. */
  lay() {
    const fragment = document.createDocumentFragment();
    for (const [start, end, left, top, right, bottom, confidence] of this.words) {
      const span = document.createElement("span");
      span.textContent = this.slice(start, end);
      span.dataset.start = start;
      span.dataset.end = end;
      span.dataset.width = right - left;
      span.style.left = percent(left);
      span.style.top = percent(top);
      span.style.height = percent(bottom - top);
      if (confidence !== undefined && confidence < this.view.config.lowConfidence) {
        span.classList.add("ocr-doubt");
        span.dataset.confidence = confidence;
        span.title = `OCR confidence ${confidence} %`;
      }
      fragment.append(span);
    }
    this.layer.replaceChildren(fragment);
    this.fit();
  }

  /** Size each word's type to its box: the font from the box's height, then stretched
   * to its width, so that a selection follows the words on the image. All the reads,
   * then all the writes: one layout, not one a word. */
  fit() {
    const spans = [...this.layer.children];
    const width = this.layer.clientWidth;
    if (!spans.length || !width) return;
    const heights = spans.map((span) => span.offsetHeight);
    spans.forEach((span, i) => { span.style.fontSize = `${heights[i] * FILL}px`; });
    const natural = spans.map((span) => span.offsetWidth);
    spans.forEach((span, i) => {
      const wanted = (Number(span.dataset.width) / BOX_UNITS) * width;
      span.style.transform = `scaleX(${natural[i] ? wanted / natural[i] : 1})`;
    });
    this.width = width;
  }

  /** The page's text from code point `start` to `end` of the revision. */
  slice(start, end) {
    return this.text.slice(this.map.toUnits(start - this.start), this.map.toUnits(end - this.start));
  }

  /** Draw the highlights that cover this page's words, over each word's part they cover,
   * and the regions marked on it. */
  paint() {
    this.paintRegions();
    if (!this.words) return;
    const fragment = document.createDocumentFragment();
    for (const annotation of this.view.annotations) {
      if (annotation.region) continue;
      if (annotation.end <= this.start || annotation.start >= this.end) continue;
      for (const [start, end, left, top, right, bottom] of this.words) {
        const from = Math.max(start, annotation.start);
        const to = Math.min(end, annotation.end);
        if (to <= from) continue;
        const share = (right - left) / (end - start);
        const mark = document.createElement("div");
        mark.className = "page-hl";
        mark.dataset.annotation = annotation.id;
        mark.dataset.start = from;
        mark.dataset.end = to;
        mark.style.left = percent(left + share * (from - start));
        mark.style.width = percent(share * (to - from));
        mark.style.top = percent(top);
        mark.style.height = percent(bottom - top);
        fragment.append(mark);
      }
    }
    this.marks.replaceChildren(fragment);
  }

  /** A rectangle for each region annotation on this page, its comment and tags as its
   * name; it links to the annotation's crop of the page. */
  paintRegions() {
    const fragment = document.createDocumentFragment();
    for (const annotation of this.view.annotations) {
      if (!annotation.region || annotation.page !== this.index) continue;
      const { x, y, w, h } = annotation.region;
      const mark = document.createElement("a");
      mark.className = "page-region";
      mark.dataset.annotation = annotation.id;
      mark.href = `${this.element.dataset.crop}?${new URLSearchParams({ xywh: `percent:${x},${y},${w},${h}`, width: "800" })}`;
      const words = [annotation.comment, (annotation.tags || []).join(", ")].filter(Boolean);
      mark.title = words.join(" · ") || `Region of page ${this.label}`;
      mark.setAttribute("aria-label", `Region of page ${this.label}${words.length ? `: ${words.join(" · ")}` : ""}`);
      Object.assign(mark.style, { left: `${x}%`, top: `${y}%`, width: `${w}%`, height: `${h}%` });
      fragment.append(mark);
    }
    this.regions.replaceChildren(fragment);
  }

  /** The first code point of this page in view, or of the page if its words are not in. */
  firstInView(top = 0) {
    const word = this.words && [...this.layer.children].find((span) => span.getBoundingClientRect().bottom > top);
    return word ? Number(word.dataset.start) : this.start;
  }

  /** The code point a selection boundary stands at (a start, or an end). */
  pointAt(node, offset, isEnd) {
    const span = node.nodeType === Node.TEXT_NODE ? node.parentElement : null;
    if (span?.dataset.start !== undefined && span.parentElement === this.layer) {
      const map = new OffsetMap(span.textContent);
      return Number(span.dataset.start) + map.toCodePoints(offset, { snap: isEnd ? "end" : "start" });
    }
    const spans = [...this.layer.children];
    if (node === this.layer) {
      const next = spans[offset];
      if (isEnd) return offset ? Number(spans[offset - 1].dataset.end) : null;
      return next ? Number(next.dataset.start) : null;
    }
    const within = node.closest ? node.closest("[data-start]") : span;
    if (within && within.parentElement === this.layer) {
      return Number(isEnd ? within.dataset.end : within.dataset.start);
    }
    return null;
  }
}

class PageView {
  constructor(list) {
    this.list = list;
    this.config = JSON.parse(document.getElementById(list.dataset.config).textContent);
    this.pages = [...list.querySelectorAll("[data-page]")].map((li) => new Page(li, this));
    this.byElement = new Map(this.pages.map((page) => [page.element, page]));
    this.annotations = [];
    this.toolbar = document.querySelector("[data-role=toolbar]");
    this.status = document.querySelector("[data-role=status]");
    this.selected = null;
  }

  start() {
    const observer = new IntersectionObserver((entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        observer.unobserve(entry.target);
        this.byElement.get(entry.target).load();
      }
    }, { rootMargin: NEAR });
    this.pages.forEach((page) => observer.observe(page.element));
    new ResizeObserver(() => this.refit()).observe(this.list);
    this.loadAnnotations();
    this.watchSelection();
    this.keepPosition();
    if (this.config.canAnnotate) new RegionDrawing(this).start();
    this.list.dataset.ready = "true";
  }

  /** Open at the position the address names (#offset-N, a code point of the text), and
   * take the position in view to the text view when the reader switches to it. */
  keepPosition() {
    const match = /^#offset-(\d+)$/.exec(window.location.hash);
    if (match) this.scrollTo(Number(match[1]));
    document.querySelectorAll("[data-view-switch]").forEach((link) => {
      link.addEventListener("click", () => {
        const top = below(link);
        const page = this.pages.find((p) => p.element.getBoundingClientRect().bottom > top);
        if (page) link.href = `${link.href.split("#")[0]}#offset-${page.firstInView(top)}`;
      });
    });
  }

  scrollTo(offset) {
    const page = this.pages.filter((p) => p.start <= offset).pop() || this.pages[0];
    if (!page) return;
    page.element.scrollIntoView({ block: "start" });
    page.load().then(() => {
      const word = [...page.layer.children].find((span) => Number(span.dataset.end) > offset);
      word?.scrollIntoView({ block: "center" });
    });
  }

  refit() {
    for (const page of this.pages) {
      if (page.words && page.width !== page.layer.clientWidth) page.fit();
    }
  }

  async loadAnnotations() {
    if (!this.config.text) return;
    const found = [];
    let next = `${this.config.annotations}?${new URLSearchParams({ text: this.config.text, limit: "100" })}`;
    while (next) {
      const response = await fetch(next, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (!response.ok) break;
      const data = await response.json();
      found.push(...(Array.isArray(data) ? data : data.results || []));
      next = Array.isArray(data) ? null : data.next;
    }
    this.annotations = found;
    this.pages.forEach((page) => page.paint());
    this.list.dataset.annotations = String(found.length);
  }

  /** The selected code points, if the selection lies on the pages' text layers. */
  selection() {
    const selection = document.getSelection();
    if (!selection.rangeCount || selection.isCollapsed) return null;
    const range = selection.getRangeAt(0);
    const first = this.pageOf(range.startContainer);
    const last = this.pageOf(range.endContainer);
    if (!first || !last) return null;
    const start = first.pointAt(range.startContainer, range.startOffset, false);
    const end = last.pointAt(range.endContainer, range.endOffset, true);
    return start !== null && end !== null && end > start ? { start, end, range } : null;
  }

  pageOf(node) {
    const element = (node.nodeType === Node.TEXT_NODE ? node.parentElement : node)?.closest?.("[data-page]");
    const page = element && this.byElement.get(element);
    return page && page.layer.contains(node) ? page : null;
  }

  watchSelection() {
    let timer = 0;
    let pressed = false; // a selection being made: the toolbar waits for the button's release
    const check = () => {
      this.selected = this.selection();
      if (!this.selected || pressed) {
        this.toolbar.hidden = true;
        return;
      }
      const box = this.selected.range.getBoundingClientRect();
      this.toolbar.hidden = false;
      this.toolbar.style.top = `${window.scrollY + box.bottom + 8}px`;
      this.toolbar.style.left = `${Math.max(8, window.scrollX + box.left)}px`;
      this.toolbar.querySelector("[data-action=highlight]").hidden = !this.config.canAnnotate;
    };
    const schedule = () => {
      clearTimeout(timer);
      timer = setTimeout(check, 150);
    };
    document.addEventListener("selectionchange", schedule);
    this.list.addEventListener("pointerdown", (event) => { pressed = event.button === 0; });
    document.addEventListener("pointerup", () => {
      if (!pressed) return;
      pressed = false;
      schedule();
    });
    this.toolbar.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
    this.toolbar.addEventListener("click", (event) => {
      // The selection as it is now: a click may come before the settling timer has run.
      this.selected = this.selection() || this.selected;
      const action = event.target.closest("[data-action]")?.dataset.action;
      if (action === "highlight") this.highlight();
      if (action === "text-view" && this.selected) window.location.href = `${this.config.textUrl}#offset-${this.selected.start}`;
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !this.toolbar.hidden) this.toolbar.hidden = true;
    });
  }

  async highlight() {
    if (!this.selected || !this.config.canAnnotate) return;
    const { start, end } = this.selected;
    const response = await fetch(this.config.annotations, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": this.config.csrfToken },
      body: JSON.stringify({ text: this.config.text, start, end }),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      this.announce(data?.detail || `The highlight was not saved (the server answered ${response.status}).`);
      return;
    }
    this.annotations.push(data);
    this.pages.forEach((page) => page.paint());
    document.getSelection().removeAllRanges();
    this.toolbar.hidden = true;
    this.announce("Highlight saved.");
  }

  announce(message) {
    this.status.textContent = message;
  }
}

/** Marking a region of a page: drag a rectangle over the image (pointer events), or, with
 * the keyboard, press Enter on a page and set the rectangle's numbers; then the comment and
 * tags (the one tag widget, as in the reading view's popover), and the region is POSTed to
 * the annotation API as {text, page, region}. */
class RegionDrawing {
  constructor(view) {
    this.view = view;
    this.button = document.querySelector("[data-action=draw]");
    this.hint = document.querySelector("[data-role=draw-hint]");
    this.form = document.querySelector("[data-role=region-form]");
    this.error = this.form.querySelector("[data-role=region-error]");
    this.page = null;
    this.draft = null;
  }

  start() {
    this.button.addEventListener("click", () => this.toggle(this.button.getAttribute("aria-pressed") !== "true"));
    for (const page of this.view.pages) {
      page.sheet.addEventListener("pointerdown", (event) => this.press(page, event));
      page.sheet.addEventListener("keydown", (event) => {
        if (event.key === "Enter" && this.drawing()) {
          event.preventDefault();
          this.open(page, { x: 25, y: 25, w: 50, h: 20 });
        }
      });
    }
    this.form.addEventListener("input", () => this.follow());
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    this.form.querySelector("[data-action=cancel-region]").addEventListener("click", () => this.close());
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape") return;
      if (!this.form.hidden) this.close(); else if (this.drawing()) this.toggle(false);
    });
  }

  drawing() {
    return this.view.list.classList.contains("drawing");
  }

  toggle(on) {
    this.button.setAttribute("aria-pressed", String(on));
    this.hint.hidden = !on;
    this.view.list.classList.toggle("drawing", on);
    for (const page of this.view.pages) {
      if (on) {
        page.sheet.tabIndex = 0;
        page.sheet.setAttribute("aria-label", `Page ${page.label}: press Enter to mark a region`);
      } else {
        page.sheet.removeAttribute("tabindex");
        page.sheet.removeAttribute("aria-label");
      }
    }
    if (!on) this.close();
  }

  /** The pointer's place on the page, in percent of it, kept on the page. */
  at(page, event) {
    const box = page.sheet.getBoundingClientRect();
    const clamp = (v) => Math.min(100, Math.max(0, v));
    return { x: clamp(((event.clientX - box.left) / box.width) * 100), y: clamp(((event.clientY - box.top) / box.height) * 100) };
  }

  press(page, event) {
    if (!this.drawing() || event.button !== 0) return;
    event.preventDefault();
    const from = this.at(page, event);
    this.place(page, { ...from, w: 0, h: 0 });
    page.sheet.setPointerCapture(event.pointerId);
    const move = (e) => {
      const to = this.at(page, e);
      this.place(page, {
        x: Math.min(from.x, to.x), y: Math.min(from.y, to.y),
        w: Math.abs(to.x - from.x), h: Math.abs(to.y - from.y),
      });
    };
    const up = (e) => {
      move(e);
      page.sheet.removeEventListener("pointermove", move);
      page.sheet.removeEventListener("pointerup", up);
      page.sheet.removeEventListener("pointercancel", up);
      const region = this.region;
      if (region.w < 0.5 || region.h < 0.5) this.close(); else this.open(page, region);
    };
    page.sheet.addEventListener("pointermove", move);
    page.sheet.addEventListener("pointerup", up);
    page.sheet.addEventListener("pointercancel", up);
  }

  /** Show the rectangle being drawn (a dashed box over the page). */
  place(page, region) {
    const round = (v) => Math.round(v * 100) / 100;
    this.region = { x: round(region.x), y: round(region.y), w: round(region.w), h: round(region.h) };
    if (!this.draft || this.page !== page) {
      this.draft?.remove();
      this.draft = document.createElement("div");
      this.draft.className = "page-region draft";
      page.regions.after(this.draft);
    }
    this.page = page;
    const { x, y, w, h } = this.region;
    Object.assign(this.draft.style, { left: `${x}%`, top: `${y}%`, width: `${w}%`, height: `${h}%` });
  }

  open(page, region) {
    this.place(page, region);
    this.form.querySelector("[data-role=region-page]").textContent = page.label;
    for (const key of ["x", "y", "w", "h"]) this.form.elements[key].value = this.region[key];
    this.error.hidden = true;
    this.form.hidden = false;
    page.element.append(this.form); // under the page's image and label, in its item
    this.form.elements.comment.focus();
  }

  /** The rectangle follows the numbers typed into the form. */
  follow() {
    const value = (key) => Number(this.form.elements[key].value);
    if (this.page && ["x", "y", "w", "h"].every((key) => Number.isFinite(value(key)))) {
      this.place(this.page, { x: value("x"), y: value("y"), w: value("w"), h: value("h") });
    }
  }

  close() {
    this.form.hidden = true;
    this.form.reset();
    this.draft?.remove();
    this.draft = null;
    this.page = null;
  }

  async save() {
    const { view, page } = this;
    if (!page) return;
    // The tag widget (tag-input.js) keeps the field's value as "a, b": the chips and what is typed.
    const tags = this.form.elements.tags.value.split(",").map((t) => t.trim()).filter(Boolean);
    const response = await fetch(view.config.annotations, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRFToken": view.config.csrfToken },
      body: JSON.stringify({ text: view.config.text, page: page.index, region: this.region, comment: this.form.elements.comment.value, tags }),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      this.error.textContent = problem(data, response.status);
      this.error.hidden = false;
      return;
    }
    view.annotations.push(data);
    page.paintRegions();
    this.close();
    view.announce(`Region saved on page ${page.label}.`);
  }
}

/** Where the window's view begins under the (sticky) view switch holding `link`; a few
 * pixels more, so that the last sliver of what was scrolled past does not count. */
function below(link) {
  return Math.max(0, link.closest(".view-switch")?.getBoundingClientRect().bottom ?? 0) + 8;
}

const READER_SCROLLS = ["wheel", "touchstart", "keydown", "pointerdown"];

/** Scroll `element` to the top of the view and keep it there while `settling` changes size
 * (the paragraphs above drawn at their real heights instead of the guess that
 * `content-visibility` makes for them, highlights painted, fonts arriving), until the
 * reader scrolls or nothing has moved for a second and a half after the page has loaded.
 * `data-holding` marks `settling` meanwhile. */
function holdAtTop(element, settling) {
  let timer;
  const align = () => element.scrollIntoView({ block: "start" });
  const stop = () => {
    observer.disconnect();
    clearTimeout(timer);
    READER_SCROLLS.forEach((type) => window.removeEventListener(type, stop, true));
    delete settling.dataset.holding;
  };
  const wait = () => {
    clearTimeout(timer);
    if (document.readyState === "complete") timer = setTimeout(stop, 1500);
    else window.addEventListener("load", wait, { once: true });
  };
  const observer = new ResizeObserver(() => { align(); wait(); });
  settling.dataset.holding = "true";
  READER_SCROLLS.forEach((type) => window.addEventListener(type, stop, { capture: true, passive: true }));
  align();
  observer.observe(settling);
  wait();
}

/** A readable message from a refused request's body: DRF's {"field": ["…"]} or {"detail"}. */
function problem(data, status) {
  if (data && typeof data === "object") {
    if (data.detail) return String(data.detail);
    const [field, messages] = Object.entries(data)[0] || [];
    if (field) return `${field}: ${[].concat(messages).join(" ")}`;
  }
  return `The region was not saved (the server answered ${status}).`;
}

/** The text view of a revision that has pages (templates/sources/source_detail.html):
 * the switch to the page view takes the position in view with it, a position the address
 * names (#offset-N) is scrolled to, and the words OCR read with doubt are underlined, by
 * the CSS Custom Highlight API, leaving the text's elements (which annotate.js paints)
 * alone. */
class TextView {
  constructor(reading) {
    this.reading = reading;
  }

  start() {
    document.querySelectorAll("[data-view-switch]").forEach((link) => {
      link.addEventListener("click", () => {
        const top = below(link);
        const first = [...this.reading.querySelectorAll("p[data-start]")].find((p) => p.getBoundingClientRect().bottom > top);
        if (first) link.href = `${link.href.split("#")[0]}#offset-${first.dataset.start}`;
      });
      if (link.dataset.doubts) this.markDoubts(link.dataset.doubts);
    });
    const match = /^#offset-(\d+)$/.exec(window.location.hash);
    if (match) this.whenShown(Number(match[1]), (range) => holdAtTop(range.startContainer.parentElement.closest("p"), this.reading));
  }

  /** A range over code points [start, end) of the text, or null if not (yet) shown. */
  range(start, end) {
    const paragraphs = [...this.reading.querySelectorAll("p[data-start]")];
    const p = paragraphs.filter((el) => Number(el.dataset.start) <= start).pop();
    if (!p) return null;
    const map = new OffsetMap(p.textContent);
    const base = Number(p.dataset.start);
    const point = (offset) => {
      let left = map.toUnits(offset - base);
      const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (left <= node.data.length) return [node, left];
        left -= node.data.length;
      }
      return null;
    };
    const from = point(start);
    const to = point(end);
    if (!from || !to) return null;
    const range = document.createRange();
    range.setStart(...from);
    range.setEnd(...to);
    return range;
  }

  /** Call back with the range at `offset` once its paragraph is in the page (the rest of
   * a long text arrives after the first screens). */
  whenShown(offset, callback) {
    const attempt = () => {
      const range = this.range(offset, offset);
      const more = this.reading.querySelector("[data-role=reading-more]");
      const last = [...this.reading.querySelectorAll("p[data-start]")].pop();
      const complete = !more || (last && Number(last.dataset.start) > offset);
      if (range && complete) {
        callback(range);
        return true;
      }
      return false;
    };
    if (attempt()) return;
    const observer = new MutationObserver(() => { if (attempt()) observer.disconnect(); });
    observer.observe(this.reading, { childList: true });
  }

  async markDoubts(url) {
    if (!window.CSS?.highlights || typeof Highlight === "undefined") return;
    const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (!response.ok) return;
    const { words } = await response.json();
    const highlight = new Highlight();
    const pending = [];
    for (const [start, end] of words) {
      const range = this.range(start, end);
      if (range) highlight.add(range); else pending.push([start, end]);
    }
    CSS.highlights.set("ocr-doubt", highlight);
    this.reading.dataset.doubts = String(highlight.size);
    if (!pending.length) return;
    const observer = new MutationObserver(() => {
      for (let i = pending.length - 1; i >= 0; i--) {
        const range = this.range(...pending[i]);
        if (range) { highlight.add(range); pending.splice(i, 1); }
      }
      this.reading.dataset.doubts = String(highlight.size);
      if (!pending.length) observer.disconnect();
    });
    observer.observe(this.reading, { childList: true });
  }
}

document.querySelectorAll("[data-pages]").forEach((list) => new PageView(list).start());
const reading = document.getElementById("reading");
if (reading && document.querySelector("[data-view-switch]")) new TextView(reading).start();
