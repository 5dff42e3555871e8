// "Find the selected passage elsewhere" on the source page (templates/sources/reuse_panel.html).
// Attaches to `[data-reuse-passage]`: while a passage of the reading view is selected, the
// button asks the server for its other occurrences (the passage page's results fragment,
// rendered and escaped by Django) and shows them under it. Offsets are code points
// (annotate-anchor.js converts from the DOM's UTF-16).

import { Paragraphs } from "./annotate-anchor.js";

function start(box) {
  const reader = document.getElementById(box.dataset.reader);
  if (!reader) return;
  const button = box.querySelector("[data-role=find]");
  const results = box.querySelector("[data-role=results]");
  let selector = null;
  let paragraphs = null;  // built on the first selection: a long text has thousands
  box.hidden = false;

  document.addEventListener("selectionchange", () => {
    const range = rangeIn(reader);
    if (!range) return;
    paragraphs ??= new Paragraphs(reader);
    const found = paragraphs.selectorOf(range);
    if (found) selector = found;  // keep the last selection when focus moves to the button
    button.disabled = !selector;
  });
  button.addEventListener("click", async () => {
    if (!selector) return;
    button.disabled = true;
    results.textContent = "Looking…";
    try {
      results.innerHTML = await fetchResults(box, selector);
    } catch (error) {
      results.textContent = `The search failed (${error.message}).`;
    } finally {
      button.disabled = false;
    }
  });
}

function rangeIn(reader) {
  const selection = document.getSelection();
  if (!selection.rangeCount || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  return range.intersectsNode(reader) ? range : null;
}

async function fetchResults(box, selector) {
  const url = new URL(box.dataset.url, window.location.href);
  url.search = new URLSearchParams({
    revision: box.dataset.revision,
    start: selector.start,
    end: selector.end,
    fragment: "1",
  }).toString();
  const response = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
  if (!response.ok && response.status !== 400) throw new Error(`HTTP ${response.status}`);
  return response.text();  // a 400 carries the form's message ("select at least 4 words")
}

for (const box of document.querySelectorAll("[data-reuse-passage]")) start(box);
