// The server counts offsets in Unicode code points (the W3C TextPositionSelector does);
// the DOM counts UTF-16 code units, in which 𠮷 or 👍 take two. Every offset that crosses
// between the page and the API is converted here, and nowhere else.

const isHigh = (unit) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit) => unit >= 0xdc00 && unit <= 0xdfff;
const SURROGATE = /[\uD800-\uDFFF]/;

/** True when `units` falls between the two halves of a surrogate pair. */
function splitsPair(text, units) {
  return units > 0 && units < text.length
    && isHigh(text.charCodeAt(units - 1)) && isLow(text.charCodeAt(units));
}

/** The number of code points in `text` (a lone surrogate counts as one, as in Python). */
export function codePointLength(text) {
  let pairs = 0;
  for (let i = 1; i < text.length; i++) {
    if (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))) { pairs++; i++; }
  }
  return text.length - pairs;
}

/**
 * Maps offsets inside one string both ways. Text without surrogates (most paragraphs)
 * maps to itself at no cost; otherwise a table of code point → code unit is built once.
 */
export class OffsetMap {
  constructor(text) {
    this.text = text;
    this.units = text.length;
    this.table = SURROGATE.test(text) ? buildTable(text) : null;
    this.length = this.table ? this.table.length - 1 : text.length;
  }

  /** Code-point offset → UTF-16 offset; clamped to the string. */
  toUnits(codePoints) {
    const cp = Math.max(0, Math.min(codePoints, this.length));
    return this.table ? this.table[cp] : cp;
  }

  /**
   * UTF-16 offset → code-point offset. A point inside a surrogate pair (possible with a
   * programmatic Range) snaps outwards: a start moves before the pair, an end after it.
   */
  toCodePoints(units, { snap = "start" } = {}) {
    let u = Math.max(0, Math.min(units, this.units));
    if (!this.table) return u;
    if (splitsPair(this.text, u)) u += snap === "end" ? 1 : -1;
    return upperIndex(this.table, u);
  }
}

function buildTable(text) {
  const table = new Uint32Array(codePointLength(text) + 1);
  let cp = 0;
  for (let u = 0; u < text.length; u++) {
    table[cp++] = u;
    if (isHigh(text.charCodeAt(u)) && isLow(text.charCodeAt(u + 1))) u++;
  }
  table[cp] = text.length;
  return table;
}

// The index whose table entry equals `units` (entries are strictly increasing).
function upperIndex(table, units) {
  let lo = 0;
  let hi = table.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table[mid] < units) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** Code points of `text` before the UTF-16 offset `units`. */
export function unitsToCodePoints(text, units, options) {
  return new OffsetMap(text).toCodePoints(units, options);
}

/** The UTF-16 offset of code point `codePoints` in `text`. */
export function codePointsToUnits(text, codePoints) {
  return new OffsetMap(text).toUnits(codePoints);
}

/** Slice by code points, as Python's text[start:end] does. */
export function sliceCodePoints(text, start, end) {
  const map = new OffsetMap(text);
  return text.slice(map.toUnits(start), map.toUnits(end));
}
