// Paints highlights into the reading view without changing any paragraph's textContent:
// each paragraph is cut at every highlight boundary and rebuilt in one DocumentFragment;
// a run covered by n highlights is one <mark> listing all n ids, shaded by depth, so
// overlapping highlights stay visible. Paragraphs are painted when they come near the
// viewport, and the rest in idle time, so a 1 MB text with thousands of highlights
// shows its first screen at once.

const MAX_DEPTH = 4;
const IDLE_BUDGET_MS = 8;

/**
 * Runs of paragraph text between highlight boundaries, in UTF-16 units of the paragraph:
 * [{from, to, ids: [..]}] where ids is empty for unhighlighted text.
 */
export function segments(paragraph, annotations) {
  const events = [];
  for (const a of annotations) {
    const from = paragraph.map.toUnits(Math.max(a.start, paragraph.start) - paragraph.start);
    const to = paragraph.map.toUnits(Math.min(a.end, paragraph.end) - paragraph.start);
    if (to > from) events.push([from, 1, a], [to, -1, a]);
  }
  events.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
  const runs = [];
  const active = new Set();
  let at = 0;
  for (const [position, step, annotation] of events) {
    if (position > at) runs.push({ from: at, to: position, annotations: [...active] });
    at = position;
    if (step > 0) active.add(annotation); else active.delete(annotation);
  }
  if (paragraph.map.units > at) runs.push({ from: at, to: paragraph.map.units, annotations: [] });
  return runs;
}

function markFor(text, covering, focusedId) {
  const mark = document.createElement("mark");
  const depth = Math.min(covering.length, MAX_DEPTH);
  mark.className = `hl hl-d${depth}`;
  if (covering.some((a) => a.state === "moved" || a.state === "fuzzy")) mark.classList.add("hl-approx");
  if (covering.some((a) => a.id === focusedId)) mark.classList.add("is-focused");
  mark.dataset.ids = covering.map((a) => a.id).join(" ");
  mark.textContent = text;
  return mark;
}

export class Painter {
  /** `paragraphs` is a Paragraphs; `shown()` yields the annotations to paint, in order. */
  constructor(paragraphs, shown) {
    this.paragraphs = paragraphs;
    this.shown = shown;
    this.byParagraph = new Map();
    this.painted = new Map(); // paragraph index → the annotation list it shows
    this.near = new Set();
    this.focusedId = null;
    this.observer = null;
    this.waitingForMore = false; // paragraphs or annotations are still streaming in
  }

  /** Rebuild the paragraph index and paint what is on screen; resolves once painted. */
  start() {
    this.index();
    return new Promise((resolve) => {
      if (!("IntersectionObserver" in window)) {
        this.paragraphs.list.forEach((p) => this.near.add(p.index));
        this.flush();
        resolve();
        return;
      }
      let first = true;
      this.observer = new IntersectionObserver((entries) => {
        for (const entry of entries) {
          const { index } = this.paragraphs.byElement.get(entry.target);
          if (entry.isIntersecting) this.near.add(index); else this.near.delete(index);
        }
        this.flush();
        if (first) {
          first = false;
          resolve();
          this.paintRestWhenIdle();
        }
      }, { rootMargin: "100% 0px" });
      this.paragraphs.list.forEach((p) => this.observer.observe(p.el));
    });
  }

  /** Watch paragraphs streamed in after the first paint. */
  observe(paragraphs) {
    if (!this.observer) {
      paragraphs.forEach((p) => this.near.add(p.index));
      return;
    }
    paragraphs.forEach((p) => this.observer.observe(p.el));
  }

  index() {
    this.byParagraph = new Map();
    for (const a of this.shown()) this.add(a);
  }

  add(annotation) {
    for (const p of this.paragraphs.overlapping(annotation.start, annotation.end)) {
      if (!this.byParagraph.has(p.index)) this.byParagraph.set(p.index, []);
      this.byParagraph.get(p.index).push(annotation);
    }
  }

  /** After annotations were added, changed, removed or filtered: repaint what changed. */
  refresh() {
    this.index();
    this.flush();
    this.paintRestWhenIdle();
  }

  /** Paint the paragraphs near the viewport whose highlights changed. */
  flush() {
    for (const index of this.near) this.paint(index);
  }

  paint(index) {
    const wanted = this.byParagraph.get(index) || [];
    const had = this.painted.get(index) || [];
    if (sameList(wanted, had)) return;
    const paragraph = this.paragraphs.list[index];
    if (wanted.length === 0 && paragraph.breaks.length === 0) {
      paragraph.el.replaceChildren(paragraph.text);
    } else {
      paragraph.el.replaceChildren(this.fragment(paragraph, wanted));
    }
    this.painted.set(index, wanted.slice());
  }

  /** The paragraph's runs, marked where highlighted, with its page-break markers put back
   * where they stood (between marks, as the server paints them). */
  fragment(paragraph, annotations) {
    const fragment = document.createDocumentFragment();
    const put = (from, to, covering) => {
      const text = paragraph.text.slice(from, to);
      fragment.append(covering.length ? markFor(text, covering, this.focusedId) : text);
    };
    const { breaks } = paragraph;
    let b = 0;
    for (const run of segments(paragraph, annotations)) {
      let at = run.from;
      for (; b < breaks.length && breaks[b][0] < run.to; b++) {
        const cut = Math.max(breaks[b][0], at);
        if (cut > at) put(at, cut, run.annotations);
        fragment.append(breaks[b][1]);
        at = cut;
      }
      if (run.to > at) put(at, run.to, run.annotations);
    }
    for (; b < breaks.length; b++) fragment.append(breaks[b][1]);
    return fragment;
  }

  // Paragraphs far off screen are painted in slices of idle time, so printing, find in
  // page and "show in text" see every highlight without blocking the first paint.
  paintRestWhenIdle() {
    if (this.idleScheduled) return;
    this.idleScheduled = true;
    const idle = window.requestIdleCallback
      || ((cb) => setTimeout(() => cb({ timeRemaining: () => IDLE_BUDGET_MS }), 16));
    const step = (deadline) => {
      const started = performance.now();
      for (const index of this.byParagraph.keys()) {
        if (deadline.timeRemaining() <= 0 && performance.now() - started > 1) break;
        this.paint(index);
      }
      for (const index of this.painted.keys()) {
        if (!this.byParagraph.has(index)) this.paint(index);
      }
      this.idleScheduled = false;
      if (this.pending()) this.paintRestWhenIdle();
      else if (!this.allPainted && !this.waitingForMore) {
        this.allPainted = true;
        performance.mark("annotate:painted-all", { detail: { paragraphs: this.painted.size } });
      }
    };
    idle(step);
  }

  pending() {
    for (const [index, list] of this.byParagraph) {
      if (!sameList(list, this.painted.get(index) || [])) return true;
    }
    return false;
  }

  /** Paint the paragraphs of one annotation now and return its marks. */
  marksOf(annotation) {
    const marks = [];
    for (const p of this.paragraphs.overlapping(annotation.start, annotation.end)) {
      this.paint(p.index);
      marks.push(...p.el.querySelectorAll(`mark[data-ids~="${annotation.id}"]`));
    }
    return marks;
  }

  /** Outline one annotation's marks (and no others). */
  focus(annotation) {
    for (const mark of this.paragraphs.reader.querySelectorAll("mark.hl.is-focused")) {
      mark.classList.remove("is-focused");
    }
    this.focusedId = annotation ? annotation.id : null;
    if (!annotation) return [];
    const marks = this.marksOf(annotation);
    marks.forEach((mark) => mark.classList.add("is-focused"));
    return marks;
  }
}

function sameList(a, b) {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
