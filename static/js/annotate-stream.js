// A long text opens at once: the page holds its first screens (sources/views.py,
// FIRST_SCREEN_CHARS) and the annotations that begin there; the rest of the paragraphs
// and annotations are fetched after the first paint and added in slices of a few
// milliseconds, so no task blocks reading, scrolling or selecting (bench/reading.py).

const SLICE_MS = 8;

// Let the browser handle input and paint between slices: a message, not setTimeout, which
// waits at least 4 ms once nested.
function yieldToBrowser() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });
}

// No headers of its own: the request must be the one the page preloaded (<link rel=preload
// as=fetch crossorigin=anonymous>: same-origin credentials) for the browser to reuse it.
async function getJson(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  return response.json();
}

/** A paragraph element as the server renders one: text, with empty page-break markers. */
function paragraphElement([start, text, breaks]) {
  const p = document.createElement("p");
  p.dataset.start = String(start);
  let done = 0;
  const units = Array.from(text);
  for (const [at, label] of breaks) {
    if (at > done) p.append(units.slice(done, at).join(""));
    done = Math.max(done, at);
    const mark = document.createElement("span");
    mark.className = "page-break";
    mark.setAttribute("role", "doc-pagebreak");
    mark.setAttribute("aria-label", `Page ${label}`);
    mark.dataset.page = label;
    p.append(mark);
  }
  if (done < units.length) p.append(breaks.length ? units.slice(done).join("") : text);
  return p;
}

/** Append the paragraphs after the page's own: every chunk asked for at once, each shown
 * in text order as soon as it and those before it are in, a slice at a time. */
async function streamParagraphs(reader, paragraphs, painter) {
  const base = reader.dataset.blocksUrl;
  const before = reader.querySelector("[data-role=reading-more]");
  const chunks = reader.dataset.chunks.split(" ").filter(Boolean)
    .map((from) => getJson(`${base}&from=${from}`));
  for (const pending of chunks) {
    const { blocks } = await pending;
    for (let i = 0; i < blocks.length;) {
      const started = performance.now();
      const fragment = document.createDocumentFragment();
      const added = [];
      while (i < blocks.length && performance.now() - started < SLICE_MS) {
        const el = paragraphElement(blocks[i++]);
        fragment.append(el);
        added.push(el);
      }
      reader.insertBefore(fragment, before);
      painter.observe(paragraphs.append(added));
      await yieldToBrowser();
    }
  }
  before?.remove();
}

/** Fetch what the page left out; resolves once every paragraph and annotation is in. */
export async function streamRest({ reader, config, paragraphs, painter, store, list, announce }) {
  if (!config.rest && !reader.dataset.blocksUrl) return;
  painter.waitingForMore = true;
  try {
    const annotations = config.rest ? getJson(config.rest.annotations) : Promise.resolve([]);
    if (reader.dataset.blocksUrl) await streamParagraphs(reader, paragraphs, painter);
    for (const annotation of await annotations) store.put(annotation);
  } catch (error) {
    announce(`The rest of the text could not be loaded: ${error.message} Reload the page.`);
  } finally {
    painter.waitingForMore = false;
    list.renderAll();
    painter.refresh();
    performance.mark("annotate:loaded-all", { detail: { paragraphs: paragraphs.list.length } });
  }
}
