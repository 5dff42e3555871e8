// *Save to Marginalia* (sources/web/views.py): take the page the bookmarklet hands over, from
// the window that opened this one only, into the form; the reader picks the library.
const form = document.querySelector("[data-role=form]");
const waiting = document.querySelector("[data-role=waiting]");
const cancel = document.querySelector("[data-role=cancel]");
// A page the library already holds: the form carries the page and waits for the choice;
// Cancel writes nothing and closes the window.
if (cancel) cancel.addEventListener("click", () => window.close());
const held = Boolean(form && form.querySelector("[data-held]"));
if (form && window.opener && !held) {
  window.addEventListener("message", (event) => {
    const page = event.data;
    if (event.source !== window.opener || !page || page.type !== "marginalia:capture") return;
    if (typeof page.url !== "string" || typeof page.html !== "string") return;
    form.elements.url.value = page.url;
    form.elements.html.value = page.html;
    form.querySelector("[data-role=title]").textContent = String(page.title || "");
    form.querySelector("[data-role=shown-url]").textContent = page.url;
    form.querySelector("[data-role=save]").disabled = false;
    if (waiting) waiting.hidden = true;
  });
  // Say so to the opener: it sends the page to this origin only (its targetOrigin).
  window.opener.postMessage({ type: "marginalia:capture-ready" }, "*");
}
