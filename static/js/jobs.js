// Follows a background job on its page: polls the [data-job-status-url] JSON, moves the
// <progress> bar and the message, and reloads the page once the job has finished, so the
// server renders its result or error. Without JavaScript the page says to reload it.
const FIRST_DELAY = 700;
const MAX_DELAY = 5000;

function describe(status) {
  if (!status.total) return "";
  return `${status.done.toLocaleString()} of ${status.total.toLocaleString()}`;
}

function show(section, status) {
  const state = section.querySelector("[data-job-state]");
  const message = section.querySelector("[data-job-message]");
  const bar = section.querySelector("[data-job-progress]");
  const count = section.querySelector("[data-job-count]");
  if (state) state.textContent = status.state_label;
  if (message) message.textContent = status.message;
  if (bar && status.total) {
    bar.max = status.total;
    bar.value = status.done;
    bar.textContent = `${status.percent ?? 0}%`;
  }
  if (count) count.textContent = describe(status);
}

async function poll(section, delay) {
  let next = Math.min(delay * 1.3, MAX_DELAY);
  try {
    const response = await fetch(section.dataset.jobStatusUrl, {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (response.ok) {
      const status = await response.json();
      show(section, status);
      if (status.finished) {
        window.location.reload();
        return;
      }
    } else if (response.status === 401 || response.status === 404) {
      return; // signed out, or the job was deleted: nothing more to follow
    } else {
      next = MAX_DELAY; // 503 while the database restarts: keep asking, gently
    }
  } catch {
    next = MAX_DELAY; // offline for a moment
  }
  window.setTimeout(() => poll(section, next), next);
}

document.querySelectorAll("[data-job][data-job-status-url]").forEach((section) => {
  if (section.dataset.jobFinished !== "true") {
    window.setTimeout(() => poll(section, FIRST_DELAY), FIRST_DELAY);
  }
});
