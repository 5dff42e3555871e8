// On a narrow screen the source page's panels (annotations, claims, description) are a
// drawer over the text, opened by the button at the bottom corner: one tap from any line.
// Esc or the button closes it, and so does "Show in text" on a card (to show the passage).
const toggle = document.querySelector("[data-drawer-toggle]");
const drawer = toggle && document.getElementById(toggle.getAttribute("aria-controls"));

function setOpen(open) {
  drawer.classList.toggle("is-open", open);
  document.body.classList.toggle("drawer-open", open);
  toggle.setAttribute("aria-expanded", String(open));
  toggle.textContent = open ? "Back to the text" : "Annotations";
  const heading = drawer.querySelector("h2");
  if (open && heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

if (drawer) {
  toggle.addEventListener("click", (event) => {
    if (getComputedStyle(toggle).display === "none") return;
    event.preventDefault();
    setOpen(!drawer.classList.contains("is-open"));
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && drawer.classList.contains("is-open")) {
      setOpen(false);
      toggle.focus();
    }
  });
  drawer.addEventListener("click", (event) => {
    if (event.target.closest("[data-action=show]") && drawer.classList.contains("is-open")) setOpen(false);
  });
}
