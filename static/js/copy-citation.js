// "Copy citation" buttons. A [data-copy-citation] button copies a note as rich text
// (HTML, so that titles stay italic when pasted into a word processor) and as plain text.
// The note is either in the page (data-copy-target: the ids of the elements to copy,
// separated by spaces) or fetched from the citation API when the button is pressed
// (data-citation-url, with data-copy-part: full_note, short_note or quoted). Clicks are
// delegated from the document, so buttons added later (annotation cards) work too.
// data-copy-plain copies plain text only (a pandoc citation).

const RESET_MS = 2500;

document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-citation]");
  if (!button) return;
  event.preventDefault();
  copy(button);
});

async function copy(button) {
  const parts = button.dataset.citationUrl ? fetchParts(button) : Promise.resolve(pageParts(button));
  try {
    await writeClipboard(parts, button.hasAttribute("data-copy-plain"));
    announce(button, "Copied");
  } catch (error) {
    selectForManualCopy(button);
    announce(button, "Your browser did not allow copying: the text is selected, press Ctrl+C (⌘C).");
  }
}

/** The notes shown in the page: each target element, a blockquote kept as one. */
function pageParts(button) {
  const elements = (button.dataset.copyTarget || "")
    .split(/\s+/)
    .map((id) => document.getElementById(id))
    .filter(Boolean);
  const html = elements
    .map((element) => (element.tagName === "BLOCKQUOTE" ? `<blockquote>${element.innerHTML}</blockquote>` : `<p>${element.innerHTML}</p>`))
    .join("");
  const text = elements
    .map((element) => (element.tagName === "BLOCKQUOTE" ? `“${clean(element.textContent)}”` : clean(element.textContent)))
    .join("\n\n");
  return { html, text };
}

/** The note from the citation API (its HTML is rendered by the server from CSL data). */
async function fetchParts(button) {
  const response = await fetch(button.dataset.citationUrl, {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  });
  if (!response.ok) throw new Error(`The server answered ${response.status}.`);
  const data = await response.json();
  const part = button.dataset.copyPart || "full_note";
  if (part !== "quoted") return { html: `<p>${data[part]}</p>`, text: plainText(data[part]) };
  const quote = document.createElement("blockquote");
  quote.textContent = data.quote;
  return {
    html: `${quote.outerHTML}<p>${data.full_note}</p>`,
    text: `“${data.quote}”\n\n${plainText(data.full_note)}`,
  };
}

async function writeClipboard(parts, plainOnly) {
  if (!navigator.clipboard) throw new Error("No clipboard here (a page served over plain HTTP?).");
  if (!plainOnly && window.ClipboardItem && navigator.clipboard.write) {
    // Promises inside the item keep the write within the click, as Safari requires.
    const blob = (type, key) => parts.then((p) => new Blob([p[key]], { type }));
    const item = new ClipboardItem({ "text/html": blob("text/html", "html"), "text/plain": blob("text/plain", "text") });
    try {
      await navigator.clipboard.write([item]);
      return;
    } catch {
      // Older browsers take no promises in a ClipboardItem: plain text still works.
    }
  }
  await navigator.clipboard.writeText((await parts).text);
}

function plainText(html) {
  return clean(new DOMParser().parseFromString(html, "text/html").body.textContent);
}

function clean(text) {
  return text.replace(/\s+/g, " ").trim();
}

function selectForManualCopy(button) {
  const first = (button.dataset.copyTarget || "").split(/\s+/)[0];
  const element = first && document.getElementById(first);
  if (!element) return;
  const range = document.createRange();
  range.selectNodeContents(element);
  const selection = document.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
}

/** Say what happened next to the button, or (in a card without a status line) in a
 * page-wide live region, so that screen readers hear it too. */
function announce(button, message) {
  const local = button.closest("[data-passage-citation], .copy-actions")?.querySelector(".copy-status");
  const status = local || pageStatus();
  status.textContent = message;
  clearTimeout(status.resetTimer);
  status.resetTimer = setTimeout(() => { status.textContent = ""; }, RESET_MS);
}

function pageStatus() {
  let status = document.getElementById("copy-citation-status");
  if (!status) {
    status = document.createElement("p");
    status.id = "copy-citation-status";
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    document.body.append(status);
  }
  return status;
}
