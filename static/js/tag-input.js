// Every plain tag field becomes the one tag widget (annotate-tags.js: chips, autocomplete
// by any word and namespace, a comma or Enter ends a tag). Marked up as
//   <input data-tag-input data-library="slug" name="tags">        one field, "a, b" (forms)
//   <input data-tag-input data-tag-repeat data-suggest-url="…">   one `name=` per tag (search)
//   <input data-tag-input data-tag-single …>                       one tag (merge into)
// or a form's fields named in `<form data-tag-fields="tags participants" data-library=…>`.
// Without JavaScript the plain fields still work: commas separate tags on the server.

import { TagEditor, splitTyped } from "./annotate-tags.js";

const SUGGEST_LIMIT = 8;

function suggester(field) {
  const library = field.dataset.library || field.form?.dataset.library;
  const url = field.dataset.suggestUrl || field.form?.dataset.suggestUrl;
  const kind = field.dataset.suggestKind;
  return async (typed) => {
    const query = new URLSearchParams({ q: typed, limit: String(SUGGEST_LIMIT) });
    if (library) query.set("library", library);
    if (kind) query.set("kind", kind);
    const response = await fetch(`${url || "/api/tags/"}?${query}`, {
      headers: { Accept: "application/json" }, credentials: "same-origin",
    });
    if (!response.ok) return [];
    const data = await response.json();
    return Array.isArray(data) ? data : data.results || [];
  };
}

function labelOf(field) {
  if (field.dataset.tagLabel) return field.dataset.tagLabel;
  const label = field.labels?.[0];
  // Django's labels end with a colon ("Tag:"); the editor's label is the name alone.
  return label ? label.textContent.replace(/\(.*\)/, "").trim().replace(/:$/, "") : "Tags";
}

export function enhance(field) {
  if (field.dataset.tagEnhanced) return null;
  field.dataset.tagEnhanced = "true";
  const repeat = "tagRepeat" in field.dataset;
  const name = field.name;
  const single = "tagSingle" in field.dataset;
  const editor = new TagEditor({
    suggest: suggester(field), label: labelOf(field), single, submits: true,
    hint: single ? "Type to find the tag, then choose it." : null,
  });
  // The values already applied come as one hidden input each (they work without JS).
  const container = field.closest(".field") || field.parentElement;
  const applied = repeat
    ? [...container.querySelectorAll("input[type=hidden][data-applied]")].filter((i) => i.name === name)
    : [];
  applied.forEach((input) => input.remove());
  const initial = repeat ? applied.map((input) => input.value) : splitTyped(field.value);
  const hidden = [];
  const sync = () => {
    const values = editor.values();
    if (repeat) {
      hidden.forEach((input) => input.remove());
      hidden.length = 0;
      for (const value of values) {
        const input = Object.assign(document.createElement("input"), { type: "hidden", name, value });
        editor.el.append(input);
        hidden.push(input);
      }
    } else {
      field.value = values.join(", ");
    }
  };
  // The original field keeps its name (forms) or gives it up to one hidden input per tag.
  container.querySelectorAll(`label[for="${field.id}"]`).forEach((label) => { label.hidden = true; });
  field.hidden = true;
  field.type = "hidden";
  if (repeat) field.name = "";
  field.after(editor.el);
  editor.set(initial);
  editor.el.addEventListener("tags-changed", sync);
  editor.input.addEventListener("input", sync);
  field.form?.addEventListener("submit", sync);
  // A form reset (the claims panel clears its form after saving) clears the chips too.
  field.form?.addEventListener("reset", () => setTimeout(() => {
    editor.set([]);
    editor.input.value = "";
    sync();
  }));
  sync();
  return editor;
}

for (const field of document.querySelectorAll("input[data-tag-input]")) enhance(field);
for (const form of document.querySelectorAll("form[data-tag-fields]")) {
  for (const name of form.dataset.tagFields.split(/\s+/)) {
    const field = form.elements[name];
    if (field instanceof HTMLInputElement) enhance(field);
  }
}
