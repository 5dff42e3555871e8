// Server-rendered tag chips carry their library's namespace colour in data-colour; set it
// through the CSSOM (the Content-Security-Policy refuses inline style attributes).
const HEX = /^#[0-9a-f]{6}$/i;

export function applyChipColours(root = document) {
  for (const chip of root.querySelectorAll(".chip[data-colour]")) {
    if (HEX.test(chip.dataset.colour)) chip.style.setProperty("--chip", chip.dataset.colour);
  }
}

applyChipColours();
