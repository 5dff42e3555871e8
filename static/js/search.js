// The search form: leave empty fields out of the URL (the URL is the saved search), search
// again at once when a choice (checkbox, radio, select) changes, suggest events, creators
// and archives as they are typed (GET /search/suggest/), and fold the filters away on a
// narrow screen (the applied ones stay above the results as removable chips).
const form = document.querySelector("[data-search-form]");
const NARROW = "(max-width: 60rem)";
const SUGGEST_DELAY_MS = 150;
let comboboxes = 0;

/** A combobox over a filter field: suggestions from the server, picked with the arrows and
 * Enter or a click; picking one searches at once. An event (a <select> without JS) becomes
 * a text field whose choice is sent as the event's id. */
class Suggestions {
  constructor(field) {
    this.kind = field.dataset.suggest;
    this.url = field.dataset.suggestUrl;
    this.input = field.tagName === "SELECT" ? this.replaceSelect(field) : field;
    this.options = [];
    this.active = -1;
    const id = `suggest-${++comboboxes}`;
    this.list = Object.assign(document.createElement("ul"), { id, className: "tag-suggestions", hidden: true });
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", `Suggested ${this.kind}s`);
    this.input.parentElement.classList.add("suggest-host");
    this.input.after(this.list);
    Object.entries({ role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": id })
      .forEach(([name, value]) => this.input.setAttribute(name, value));
    this.input.autocomplete = "off";
    this.input.addEventListener("input", () => this.schedule());
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.close(), 150));
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  replaceSelect(select) {
    const input = Object.assign(document.createElement("input"), {
      type: "text", id: select.id, placeholder: "Type an event's name",
    });
    this.hidden = Object.assign(document.createElement("input"), {
      type: "hidden", name: select.name, value: select.value,
    });
    if (select.value) input.value = select.selectedOptions[0].textContent;
    select.replaceWith(input);
    input.after(this.hidden);
    return input;
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetch(), SUGGEST_DELAY_MS);
  }

  async fetch() {
    const typed = this.input.value.trim();
    const query = new URLSearchParams({ kind: this.kind, q: typed, limit: "8" });
    const response = await fetch(`${this.url}?${query}`, { headers: { Accept: "application/json" } })
      .catch(() => null);
    if (!response?.ok || typed !== this.input.value.trim()) return;
    this.show(await response.json());
  }

  show(options) {
    this.options = options;
    this.active = -1;
    this.list.replaceChildren(...options.map((option, index) => {
      const item = Object.assign(document.createElement("li"), { id: `${this.list.id}-${index}`, textContent: option.label });
      item.dataset.index = String(index);
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      return item;
    }));
    this.list.hidden = options.length === 0;
    this.input.setAttribute("aria-expanded", String(options.length > 0));
  }

  onKey(event) {
    const open = !this.list.hidden;
    if (event.key === "ArrowDown" && open) this.move(1);
    else if (event.key === "ArrowUp" && open) this.move(-1);
    else if (event.key === "Enter" && open && this.active >= 0) this.pick(this.active);
    else if (event.key === "Escape" && open) this.close();
    else return;
    event.preventDefault();
  }

  move(step) {
    const count = this.options.length;
    this.active = (this.active + step + count) % count;
    [...this.list.children].forEach((item, i) => item.setAttribute("aria-selected", String(i === this.active)));
    this.input.setAttribute("aria-activedescendant", this.list.children[this.active].id);
  }

  pick(index) {
    const option = this.options[index];
    if (this.hidden) {
      this.hidden.value = option.value;
      this.input.value = option.label;
      this.input.name = "";
    } else {
      this.input.value = option.value;
    }
    this.close();
    form.requestSubmit();
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}

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
  const fold = form.querySelector("[data-filters-fold]");
  if (fold && window.matchMedia(NARROW).matches) fold.open = false;
  form.querySelectorAll("[data-suggest]").forEach((field) => new Suggestions(field));
}
