// The reading view's paragraphs and the bridge between a DOM Range and the API's
// TextPositionSelector. Each `<p data-start="N">` holds the canonical text from code
// point N on, so an offset is the paragraph's start plus the code points before the
// point inside it (converted from UTF-16 in codepoints.js).

import { OffsetMap } from "./codepoints.js";

export class Paragraph {
  constructor(el, index) {
    this.el = el;
    this.index = index;
    this.text = el.textContent;
    this.map = new OffsetMap(this.text);
    this.start = Number(el.dataset.start);
    this.end = this.start + this.map.length;
    // The page-break markers (empty <span class="page-break">) and where they stand, in
    // UTF-16 units: painting rebuilds the paragraph and puts them back there.
    this.breaks = el.childElementCount === 0 ? [] : Array.from(
      el.querySelectorAll(".page-break"), (mark) => [unitsBefore(el, mark, 0), mark],
    );
  }
}

export class Paragraphs {
  constructor(reader) {
    this.reader = reader;
    this.list = Array.from(reader.querySelectorAll("p[data-start]"), (el, i) => new Paragraph(el, i));
    this.byElement = new Map(this.list.map((p) => [p.el, p]));
  }

  /** Paragraphs streamed in after the page's own (annotate-stream.js), in text order. */
  append(elements) {
    const added = elements.map((el, i) => new Paragraph(el, this.list.length + i));
    for (const paragraph of added) {
      this.list.push(paragraph);
      this.byElement.set(paragraph.el, paragraph);
    }
    return added;
  }

  /** The index of the paragraph holding code point `offset`, or of the next one after it. */
  indexAt(offset) {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid].end <= offset) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Paragraphs that share at least one code point with [start, end). */
  overlapping(start, end) {
    const found = [];
    for (let i = this.indexAt(start); i < this.list.length && this.list[i].start < end; i++) {
      found.push(this.list[i]);
    }
    return found;
  }

  paragraphOf(node) {
    const el = (node.nodeType === Node.ELEMENT_NODE ? node : node.parentElement)?.closest("p[data-start]");
    return el ? this.byElement.get(el) : undefined;
  }

  /**
   * The selector of a Range: {start, end, exact} in code points, or null when the range
   * holds no text of the reading view. Ends that fall between paragraphs (a triple
   * click, a drag past the margin) are pulled in to the nearest text, so a quote never
   * begins or ends with the blank lines between paragraphs. `exact` is only given when
   * the passage lies in one paragraph: the text between paragraphs is not in the DOM.
   */
  selectorOf(range) {
    const first = this.boundary(range.startContainer, range.startOffset, "start");
    const last = this.boundary(range.endContainer, range.endOffset, "end");
    if (!first || !last) return null;
    const start = first.paragraph.start + first.codePoints;
    const end = last.paragraph.start + last.codePoints;
    if (end <= start) return null;
    const selector = { start, end };
    if (first.paragraph === last.paragraph) {
      const { map, text } = first.paragraph;
      selector.exact = text.slice(map.toUnits(first.codePoints), map.toUnits(last.codePoints));
    }
    return selector;
  }

  // {paragraph, codePoints} for one end of a range, moved into text when it sits outside.
  boundary(node, offset, side) {
    const paragraph = this.paragraphOf(node);
    if (paragraph) {
      const units = unitsBefore(paragraph.el, node, offset);
      const codePoints = paragraph.map.toCodePoints(units, { snap: side });
      return this.pullIn(paragraph, codePoints, side);
    }
    const i = this.indexAfter(node, offset);
    if (side === "start") return i < this.list.length ? { paragraph: this.list[i], codePoints: 0 } : null;
    if (i === 0) return null;
    const previous = this.list[i - 1];
    return { paragraph: previous, codePoints: previous.map.length };
  }

  // A start at the very end of a paragraph belongs to the next one; an end at the very
  // start of one belongs to the previous one (what a triple click selects).
  pullIn(paragraph, codePoints, side) {
    const { index } = paragraph;
    if (side === "start" && codePoints === paragraph.map.length && index + 1 < this.list.length) {
      return { paragraph: this.list[index + 1], codePoints: 0 };
    }
    if (side === "end" && codePoints === 0 && index > 0) {
      const previous = this.list[index - 1];
      return { paragraph: previous, codePoints: previous.map.length };
    }
    return { paragraph, codePoints };
  }

  // The index of the first paragraph that begins after the point (node, offset).
  indexAfter(node, offset) {
    const point = document.createRange();
    point.setStart(node, offset);
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      // comparePoint(p, 0) < 0: the paragraph's start comes before the point.
      if (point.comparePoint(this.list[mid].el, 0) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** A DOM Range over code points [start, end) of one paragraph (for tests and tools). */
  rangeOf(start, end) {
    const range = document.createRange();
    const [startNode, startOffset] = this.locate(start, "start");
    const [endNode, endOffset] = this.locate(end, "end");
    range.setStart(startNode, startOffset);
    range.setEnd(endNode, endOffset);
    return range;
  }

  locate(offset, side) {
    let i = this.indexAt(offset);
    if (i >= this.list.length) i = this.list.length - 1;
    const paragraph = this.list[i];
    let units = paragraph.map.toUnits(offset - paragraph.start);
    const walker = document.createTreeWalker(paragraph.el, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    while (node) {
      const length = node.data.length;
      if (units < length || (units === length && side === "end")) return [node, units];
      units -= length;
      const next = walker.nextNode();
      if (!next) return [node, length];
      node = next;
    }
    return [paragraph.el, 0];
  }
}

// UTF-16 code units of the paragraph's text that come before (node, offset).
function unitsBefore(paragraphEl, node, offset) {
  const before = document.createRange();
  before.setStart(paragraphEl, 0);
  before.setEnd(node, offset);
  return before.toString().length;
}
