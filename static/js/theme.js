// Light, dark, or the system's choice (the default): the header's button cycles through
// them. The choice is a cookie, so the server renders <html data-theme> with the page and
// nothing flashes; marginalia.css picks every colour with light-dark().
const CHOICES = ["system", "dark", "light"];
const LABELS = { system: "Theme: as the system", dark: "Theme: dark", light: "Theme: light" };
const button = document.querySelector("[data-theme-toggle]");

function current() {
  return document.documentElement.dataset.theme || "system";
}

function apply(choice) {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  const age = choice === "system" ? 0 : 31536000;
  document.cookie = `theme=${choice === "system" ? "" : choice}; path=/; max-age=${age}; SameSite=Lax`;
  button.textContent = LABELS[choice];
  button.setAttribute("aria-label", `${LABELS[choice]} (change)`);
}

if (button) {
  button.hidden = false;
  button.textContent = LABELS[current()];
  button.addEventListener("click", () => apply(CHOICES[(CHOICES.indexOf(current()) + 1) % CHOICES.length]));
}
