// Zoom and pan the server-rendered timeline (annotations/claims/timeline.py) by narrowing its
// viewBox horizontally. The SVG is drawn with preserveAspectRatio="none", so a narrower
// viewBox stretches time only; labels (`data-x`, `data-y`) and one-day marks (`data-cx`,
// `data-w`) are scaled back so that they keep their size on screen. Links inside the SVG
// are ordinary links: clicking an event opens its page, with or without this script.

const MAX_ZOOM = 400;
const TICK_MIN_PX = 64;
const STEP = 1.6;
const DRAG_THRESHOLD_PX = 4;

function start(root) {
  const frame = root.querySelector("[data-role=frame]");
  const svg = frame?.querySelector("svg[data-timeline]");
  if (!svg) return;
  const [, , fullWidth, height] = svg.getAttribute("viewBox").split(/[\s,]+/).map(Number);
  const labels = [...svg.querySelectorAll("[data-x]")];
  const marks = [...svg.querySelectorAll("[data-cx]")];
  const levels = [...svg.querySelectorAll(".tl-ticks")];
  const view = { x: 0, w: fullWidth };

  frame.classList.add("fluid");
  svg.removeAttribute("width");
  root.querySelector("[data-role=controls]").hidden = false;

  function apply() {
    svg.setAttribute("viewBox", `${view.x} 0 ${view.w} ${height}`);
    const px = (svg.clientWidth || fullWidth) / view.w; // screen pixels per viewBox unit
    const back = 1 / px;
    for (const label of labels) {
      label.setAttribute("transform", `translate(${label.dataset.x} ${label.dataset.y}) scale(${back} 1)`);
    }
    for (const mark of marks) {
      const width = Number(mark.dataset.w) * back;
      mark.setAttribute("x", Number(mark.dataset.cx) - width / 2);
      mark.setAttribute("width", width);
    }
    let shown = 0;
    levels.forEach((level, index) => { if (Number(level.dataset.px) * px >= TICK_MIN_PX) shown = index; });
    levels.forEach((level, index) => level.setAttribute("visibility", index === shown ? "visible" : "hidden"));
    root.dataset.zoom = (fullWidth / view.w).toFixed(2);
  }

  function clampX() {
    view.x = Math.min(Math.max(view.x, 0), fullWidth - view.w);
  }

  /** Zoom by `factor` keeping the point `at` (viewBox units) where it is on screen. */
  function zoom(factor, at = view.x + view.w / 2) {
    const width = Math.min(fullWidth, Math.max(fullWidth / MAX_ZOOM, view.w / factor));
    view.x = at - ((at - view.x) * width) / view.w;
    view.w = width;
    clampX();
    apply();
  }

  function pan(units) {
    view.x += units;
    clampX();
    apply();
  }

  const unitsAt = (clientX) => {
    const box = svg.getBoundingClientRect();
    return view.x + ((clientX - box.left) / box.width) * view.w;
  };

  root.querySelector("[data-role=controls]").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-zoom]");
    if (!button) return;
    if (button.dataset.zoom === "in") zoom(STEP);
    else if (button.dataset.zoom === "out") zoom(1 / STEP);
    else { view.x = 0; view.w = fullWidth; apply(); }
  });

  frame.addEventListener("keydown", (event) => {
    const keys = {
      "+": () => zoom(STEP), "=": () => zoom(STEP), "-": () => zoom(1 / STEP),
      0: () => zoom(0), ArrowLeft: () => pan(-view.w / 10), ArrowRight: () => pan(view.w / 10),
    };
    if (event.target.closest("a") && event.key.startsWith("Arrow")) return;
    const action = keys[event.key];
    if (!action) return;
    event.preventDefault();
    action();
  });

  frame.addEventListener("wheel", (event) => {
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault();
      zoom(event.deltaY < 0 ? STEP : 1 / STEP, unitsAt(event.clientX));
    } else if (Math.abs(event.deltaX) > Math.abs(event.deltaY) && view.w < fullWidth) {
      event.preventDefault();
      pan((event.deltaX / svg.getBoundingClientRect().width) * view.w);
    }
  }, { passive: false });

  frame.addEventListener("dblclick", (event) => {
    if (event.target.closest("a")) return;
    zoom(STEP * STEP, unitsAt(event.clientX));
  });

  // Drag to move; a drag that started on an event must not open it when released.
  let drag = null;
  frame.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, startX: view.x, moved: false };
  });
  frame.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = event.clientX - drag.x;
    if (!drag.moved && Math.abs(dx) < DRAG_THRESHOLD_PX) return;
    if (!drag.moved) frame.setPointerCapture(event.pointerId);
    drag.moved = true;
    frame.classList.add("dragging");
    view.x = drag.startX - (dx / svg.getBoundingClientRect().width) * view.w;
    clampX();
    apply();
  });
  const stop = () => {
    frame.classList.remove("dragging");
    if (drag?.moved) frame.addEventListener("click", (e) => e.preventDefault(), { once: true, capture: true });
    drag = null;
  };
  frame.addEventListener("pointerup", stop);
  frame.addEventListener("pointercancel", stop);

  new ResizeObserver(apply).observe(frame);
  apply();
  root.dataset.state = "ready";
}

document.querySelectorAll("[data-timeline-root]").forEach(start);
