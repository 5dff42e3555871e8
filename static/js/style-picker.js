// Search as you type over every citation style (~10,000 CSL styles). Attaches to each
// [data-style-picker] (templates/sources/export_style_fields.html): an input with
// role=combobox, a listbox, and data-search-url (the /api/citation-styles/ endpoint).
// Without JavaScript the input still takes a style id, which the server checks.

const DEBOUNCE_MS = 150;
const LIMIT = "12";

class StylePicker {
  constructor(root) {
    this.input = root.querySelector("input[role=combobox]");
    this.list = root.querySelector("[role=listbox]");
    this.title = root.querySelector("[data-role=style-title]");
    this.status = root.querySelector("[data-role=style-status]");
    this.url = root.dataset.searchUrl;
    this.options = [];
    this.active = -1;
    this.input.addEventListener("input", () => this.schedule());
    this.input.addEventListener("focus", () => this.schedule());
    this.input.addEventListener("keydown", (event) => this.key(event));
    this.input.addEventListener("blur", () => this.close());
    this.list.addEventListener("mousedown", (event) => event.preventDefault()); // keep focus
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.choose(option);
    });
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.search(), DEBOUNCE_MS);
  }

  async search() {
    this.controller?.abort();
    this.controller = new AbortController();
    const url = new URL(this.url, window.location.href);
    url.searchParams.set("q", this.input.value.trim());
    url.searchParams.set("limit", LIMIT);
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" }, signal: this.controller.signal });
      if (response.ok) this.render(await response.json());
    } catch (error) {
      if (error.name !== "AbortError") this.status.textContent = "Styles could not be searched.";
    }
  }

  render(styles) {
    this.options = styles.map((style, index) => {
      const option = document.createElement("li");
      option.id = `${this.list.id}-${index}`;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.value = style.id;
      option.dataset.title = style.title;
      const title = document.createElement("span");
      title.textContent = style.title;
      const id = document.createElement("code");
      id.textContent = style.id;
      option.append(title, " ", id);
      return option;
    });
    this.list.replaceChildren(...this.options);
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    const open = document.activeElement === this.input && this.options.length > 0;
    this.list.hidden = !open;
    this.input.setAttribute("aria-expanded", String(open));
    this.status.textContent = styles.length ? `${styles.length} styles shown` : "No style matches.";
  }

  key(event) {
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves && this.options.length) {
      event.preventDefault();
      if (this.list.hidden) this.list.hidden = false;
      this.input.setAttribute("aria-expanded", "true");
      this.move(moves[event.key]);
    } else if (event.key === "Enter" && !this.list.hidden && this.active >= 0) {
      event.preventDefault(); // choose the style, do not submit the form yet
      this.choose(this.options[this.active]);
    } else if (event.key === "Escape" && !this.list.hidden) {
      event.preventDefault();
      this.close();
    }
  }

  move(delta) {
    const count = this.options.length;
    this.active = (this.active + delta + count) % count;
    this.options.forEach((option, index) => option.setAttribute("aria-selected", String(index === this.active)));
    const option = this.options[this.active];
    this.input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  }

  choose(option) {
    this.input.value = option.dataset.value;
    this.title.textContent = option.dataset.title;
    this.status.textContent = `${option.dataset.title} chosen.`;
    this.close();
  }

  close() {
    this.list.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}

for (const root of document.querySelectorAll("[data-style-picker]")) new StylePicker(root);
