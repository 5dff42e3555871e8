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
    this.marks = element.querySelector("[data-role=highlights]");
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

  /** Draw the highlights that cover this page's words, over each word's part they cover. */
  paint() {
    if (!this.words) return;
    const fragment = document.createDocumentFragment();
    for (const annotation of this.view.annotations) {
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
    this.list.dataset.ready = "true";
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
    const check = () => {
      this.selected = this.selection();
      if (!this.selected) {
        this.toolbar.hidden = true;
        return;
      }
      const box = this.selected.range.getBoundingClientRect();
      this.toolbar.hidden = false;
      this.toolbar.style.top = `${window.scrollY + box.bottom + 8}px`;
      this.toolbar.style.left = `${Math.max(8, window.scrollX + box.left)}px`;
      this.toolbar.querySelector("[data-action=highlight]").hidden = !this.config.canAnnotate;
    };
    document.addEventListener("selectionchange", () => {
      clearTimeout(timer);
      timer = setTimeout(check, 150);
    });
    this.toolbar.addEventListener("mousedown", (event) => event.preventDefault()); // keep the selection
    this.toolbar.addEventListener("click", (event) => {
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

document.querySelectorAll("[data-pages]").forEach((list) => new PageView(list).start());
