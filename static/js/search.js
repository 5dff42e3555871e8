// The search form: leave empty fields out of the URL (the URL is the saved search), and
// search again at once when a choice (checkbox, radio, select) changes.
const form = document.querySelector("[data-search-form]");

if (form) {
  form.addEventListener("submit", () => {
    for (const field of form.querySelectorAll("input, select")) {
      if (field.name && field.value.trim() === "" && field.type !== "checkbox" && field.type !== "radio") {
        field.disabled = true; // not submitted; the page reloads, so nothing stays disabled
      }
    }
  });
  form.addEventListener("change", (event) => {
    const field = event.target;
    if (field.matches("select, input[type=checkbox], input[type=radio]")) {
      form.requestSubmit();
    }
  });
}
