// Tag chips and the tag editor, the one tag widget of every page: an input with
// autocomplete from the library's tags (an ARIA combobox with a listbox; the server
// matches any word of a name and its namespace, accents and case set aside, in any script:
// annotations/tags.py transliterates both sides, so "Сталин" finds "Stalin"), one chip per
// tag, coloured by namespace. Tags may hold spaces and other punctuation ("person:Mao
// Zedong", "Treaty of 1950: drafts"); a comma or Enter ends one, and pasted
// "theme:face, place:Burma" becomes two.

// A namespace is one word before the first colon, as on the server (annotations/models.py).
const NAMESPACED = /^([^\s:]{1,50})\s*:\s*(\S[\s\S]*)$/;
const PALETTE_SIZE = 8;
const SUGGEST_DELAY_MS = 150;
let editorCount = 0;

export function splitTag(name) {
  const clean = name.normalize("NFC").split(/\s+/).filter(Boolean).join(" ");
  const match = NAMESPACED.exec(clean);
  if (!match) return { namespace: "", label: clean, name: clean };
  return { namespace: match[1].toLowerCase(), label: match[2], name: `${match[1]}:${match[2]}` };
}

const tagKey = (name) => splitTag(name).name.toLowerCase();

/** "theme:face, place:Burma" → ["theme:face", "place:Burma"]: a comma ends a tag. */
export function splitTyped(typed) {
  return typed.split(",").map((part) => part.trim()).filter(Boolean);
}

// Without a configured colour a namespace still gets a stable one of the palette's.
function paletteIndex(namespace) {
  let hash = 0;
  for (const char of namespace) hash = (hash * 31 + char.codePointAt(0)) >>> 0;
  return hash % PALETTE_SIZE;
}

/** A chip for one tag; `colours` maps namespace → "#rrggbb" (the library's choices). */
export function chip(name, colours = {}, tagName = "li") {
  const { namespace, label } = splitTag(name);
  const el = document.createElement(tagName);
  el.className = `chip chip-c${paletteIndex(namespace)}`;
  el.dataset.tag = name;
  if (colours[namespace]) el.style.setProperty("--chip", colours[namespace]);
  if (namespace) {
    const ns = document.createElement("span");
    ns.className = "chip-ns";
    ns.textContent = `${namespace}:`;
    el.append(ns);
  }
  const text = document.createElement("span");
  text.className = "chip-label";
  text.textContent = label;
  el.append(text);
  return el;
}

export class TagEditor {
  /** `suggest(typed)` resolves to tag objects ({name, uses}) or names. */
  /** `submits`: Enter in the empty input submits the surrounding form (search, merge). */
  constructor({ suggest, colours = {}, label = "Tags", single = false, hint = null, submits = false }) {
    this.suggest = suggest;
    this.submits = submits;
    this.colours = colours;
    this.single = single;
    this.hintText = hint;
    this.tags = [];
    this.options = [];
    this.active = -1;
    this.build(label);
  }

  build(labelText) {
    const id = `tag-editor-${++editorCount}`;
    this.el = document.createElement("div");
    this.el.className = "tag-editor";
    const label = document.createElement("label");
    label.htmlFor = `${id}-input`;
    label.textContent = labelText;
    const hint = document.createElement("span");
    hint.className = "hint";
    hint.id = `${id}-hint`;
    hint.textContent = this.hintText
      ?? "A comma or Enter adds a tag; a namespace goes before a colon, e.g. person:Mao Zedong.";
    this.chips = document.createElement("ul");
    this.chips.className = "chips";
    this.chips.setAttribute("aria-label", "Chosen tags");
    this.input = document.createElement("input");
    Object.assign(this.input, { id: `${id}-input`, type: "text", autocomplete: "off", spellcheck: false });
    this.input.setAttribute("role", "combobox");
    this.input.setAttribute("aria-autocomplete", "list");
    this.input.setAttribute("aria-expanded", "false");
    this.input.setAttribute("aria-controls", `${id}-list`);
    this.input.setAttribute("aria-describedby", hint.id);
    this.list = document.createElement("ul");
    this.list.id = `${id}-list`;
    this.list.className = "tag-suggestions";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Suggested tags");
    this.list.hidden = true;
    this.el.append(label, this.chips, this.input, this.list, hint);
    this.input.addEventListener("input", () => {
      this.takeCommas();
      this.scheduleSuggest();
    });
    this.input.addEventListener("keydown", (event) => this.onKey(event));
    this.input.addEventListener("blur", () => setTimeout(() => this.closeList(), 150));
    this.list.addEventListener("mousedown", (event) => event.preventDefault());
    this.list.addEventListener("click", (event) => {
      const option = event.target.closest("[role=option]");
      if (option) this.pick(Number(option.dataset.index));
    });
  }

  /** The tags chosen, plus whatever is still typed in the input. */
  values() {
    const typed = splitTyped(this.input.value).filter((name) => !this.has(name));
    return [...this.tags, ...typed.map((name) => splitTag(name).name)];
  }

  set(names) {
    this.tags = [];
    this.chips.replaceChildren();
    names.forEach((name) => this.add(name));
  }

  has(name) {
    const key = tagKey(name);
    return this.tags.some((tag) => tagKey(tag) === key);
  }

  add(name) {
    const parts = splitTyped(name);
    if (parts.length > 1) {
      parts.forEach((part) => this.add(part));
      return;
    }
    const { name: clean } = splitTag(parts[0] || "");
    if (!clean || this.has(clean) || (this.single && this.tags.length)) return;
    this.tags.push(clean);
    const item = chip(clean, this.colours);
    const remove = document.createElement("button");
    remove.type = "button";
    remove.className = "chip-remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove tag ${clean}`);
    remove.addEventListener("click", () => {
      this.tags = this.tags.filter((tag) => tag !== clean);
      item.remove();
      this.input.focus();
      this.changed();
    });
    item.append(remove);
    this.chips.append(item);
    this.changed();
  }

  /** Typed or pasted "a, b, c": a and b become chips, c stays to be finished. */
  takeCommas() {
    const value = this.input.value;
    const cut = value.lastIndexOf(",");
    if (cut < 0) return;
    splitTyped(value.slice(0, cut)).forEach((name) => this.add(name));
    this.input.value = value.slice(cut + 1).trimStart();
  }

  /** Tell the page (a form field kept in step, the search's filters) what changed. */
  changed() {
    this.el.dispatchEvent(new CustomEvent("tags-changed", { bubbles: true, detail: this.tags.slice() }));
  }

  onKey(event) {
    const open = !this.list.hidden && this.options.length > 0;
    if (event.key === "ArrowDown" && open) this.move(1);
    else if (event.key === "ArrowUp" && open) this.move(-1);
    else if (event.key === "Enter" && this.submits && !this.input.value.trim() && !open) return;
    else if (event.key === "Enter" || event.key === ",") this.commit();
    else if (event.key === "Escape" && open) this.closeList();
    else if (event.key === "Backspace" && !this.input.value && this.tags.length) {
      this.chips.lastElementChild.querySelector(".chip-remove").click();
    } else return;
    event.preventDefault();
    event.stopPropagation();
  }

  move(step) {
    const count = this.options.length;
    this.active = (this.active + step + count) % count;
    [...this.list.children].forEach((option, i) => {
      option.setAttribute("aria-selected", String(i === this.active));
    });
    const current = this.list.children[this.active];
    this.input.setAttribute("aria-activedescendant", current.id);
    current.scrollIntoView({ block: "nearest" });
  }

  commit() {
    if (this.active >= 0 && !this.list.hidden) this.pick(this.active);
    else if (this.input.value.trim()) {
      const typed = this.input.value;
      this.input.value = "";
      this.add(typed);
      this.closeList();
    }
  }

  pick(index) {
    const name = this.options[index];
    this.input.value = "";
    this.add(name);
    this.closeList();
    this.input.focus();
  }

  scheduleSuggest() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fetchSuggestions(), SUGGEST_DELAY_MS);
  }

  async fetchSuggestions() {
    const typed = this.input.value.trim();
    if (!typed) return this.closeList();
    let found = [];
    try {
      found = await this.suggest(typed);
    } catch {
      found = []; // autocomplete is a convenience: typing a new tag still works
    }
    if (typed !== this.input.value.trim()) return undefined;
    const names = found.map((tag) => (typeof tag === "string" ? tag : tag.name));
    this.showOptions(names.filter((name) => !this.has(name)));
    return undefined;
  }

  showOptions(names) {
    this.options = names;
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    this.list.replaceChildren(...names.map((name, index) => {
      const option = chip(name, this.colours);
      option.id = `${this.list.id}-${index}`;
      option.dataset.index = String(index);
      option.setAttribute("role", "option");
      option.setAttribute("aria-label", name);
      option.setAttribute("aria-selected", "false");
      return option;
    }));
    this.list.hidden = names.length === 0;
    this.input.setAttribute("aria-expanded", String(names.length > 0));
  }

  closeList() {
    this.options = [];
    this.active = -1;
    this.list.hidden = true;
    this.list.replaceChildren();
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }
}
