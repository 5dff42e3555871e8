// "Add another" for Django formsets: clones the <template data-formset-template> of a
// [data-formset] element, numbering the copy after the forms already there. Without
// JavaScript the page still works: it always renders a few blank forms.
function enhance(formset) {
  const prefix = formset.dataset.formset;
  const total = formset.querySelector(`input[name="${prefix}-TOTAL_FORMS"]`);
  const max = formset.querySelector(`input[name="${prefix}-MAX_NUM_FORMS"]`);
  const template = formset.querySelector("template[data-formset-template]");
  const list = formset.querySelector("[data-formset-list]");
  const button = formset.querySelector("[data-formset-add]");
  if (!total || !template || !list || !button) return;
  button.hidden = false;
  button.addEventListener("click", () => {
    const index = Number(total.value);
    if (max && index >= Number(max.value)) return;
    const html = template.innerHTML.replaceAll("__prefix__", String(index));
    list.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    const added = list.lastElementChild;
    const first = added && added.querySelector("input:not([type=hidden]), select");
    if (first) first.focus();
  });
}

document.querySelectorAll("[data-formset]").forEach(enhance);
