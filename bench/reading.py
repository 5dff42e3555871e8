"""Benchmark: the annotating reading view of a 1 MB text with 2,000 highlights, in Chromium.

    .venv/bin/python bench/reading.py [--size 1000000] [--annotations 2000] [--runs 5] [--seed 7]
        [--server runserver|gunicorn]

Builds a throw-away SQLite database, generates a multilingual text (bench/corpus.py) and
annotations on it through the ORM (the same `create_annotation` the API calls), serves it
with `manage.py runserver` (or, with `--server gunicorn`, as deployed: gunicorn, DEBUG off,
WhiteNoise) and drives Debian's Chromium through Playwright with the browser tests' launch
flags; each page load is a new browser context, so nothing is cached. Per page load it
reads the marks static/js/annotate.js sets:

- first screen painted: when the first paragraph was drawn (Element Timing) if the
  server painted the first screen's highlights into the page (it does), else
  `annotate:painted`, the script's;
- `annotate:painted-all`: every highlight painted (the rest is done in idle time);
- long tasks (> 50 ms) until then: the longest, and the total blocking time;
- selection to saved: a mouse drag over a passage → `annotate:popover` (the popover is up),
  a click on Highlight → `annotate:saved` (POST answered, highlight painted, card listed);
- a filter change: choosing a tag repaints the text and the list (synchronous part).

Prints a Markdown report with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TAGS = [
    "person:Stalin", "person:Mao Zedong", "person:Zhou Enlai", "person:Molotov",
    "place:Moscow", "place:Port Arthur", "place:Manchuria", "theme:face", "theme:railway",
    "theme:loan", "theme:treaty", "claim:dating", "claim:translation", "source criticism",
]  # fmt: skip
LONG_TASKS_JS = """
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push([e.startTime, e.duration]);
  }).observe({type: 'longtask', buffered: true});
  window.__events = {pointerup: [], click: []};
  for (const type of ['pointerup', 'click']) {
    addEventListener(type, () => window.__events[type].push(performance.now()), true);
  }
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000, help="code points of text")
    parser.add_argument("--annotations", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=5, help="page loads to take the median of")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--server",
        choices=("runserver", "gunicorn"),
        default="runserver",
        help="runserver with DEBUG (static files from the app, as before), or as deployed: "
        "gunicorn (config/gunicorn.conf.py) with DEBUG off and WhiteNoise's hashed, "
        "compressed static files",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="also print, for each page load, when each request began and ended and which "
        "blocked rendering, beside the first paint",
    )
    return parser.parse_args()


def configure_django(database: Path) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["DEBUG"] = "true"
    # One key for this process and the server: a session's auth hash is keyed by it.
    os.environ["SECRET_KEY"] = "bench-reading-view-not-a-secret-" + "x" * 32
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_library(size: int, count: int, seed: int):
    """A user, a library, a source with a generated text and `count` annotations on it."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from annotations.writes import create_annotation
    from bench.corpus import make_text
    from sources.models import Library, Source, SourceText

    user = get_user_model().objects.create_user("bench", password="bench-reading-view")
    library = Library.objects.create_for(user, name="Reading benchmark")
    source = Source.objects.create_with_creators(
        library=library, title="A generated record of conversation", creators=[]
    )
    text = SourceText.objects.add_revision(source, text=make_text(size, seed=seed))
    rng = random.Random(seed)
    started = time.perf_counter()
    with transaction.atomic():  # one commit: SQLite syncs to disk at each
        for start, end in spans(text.text, count, rng):
            create_annotation(
                text=text,
                start=start,
                end=end,
                creator=user,
                comment=rng.choice(["", "", "Compare the **Russian** original.", "Dating?"]),
                tags=rng.sample(TAGS, rng.randint(0, 3)),
            )
    print(f"created {count} annotations in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return user, source


def spans(text: str, count: int, rng: random.Random) -> list[tuple[int, int]]:
    """Passages of 8–300 code points anywhere (many overlap), none starting on a space."""
    found: list[tuple[int, int]] = []
    while len(found) < count:
        start = rng.randrange(0, len(text) - 400)
        end = start + rng.choice([8, 20, 40, 80, 150, 300])
        if not text[start].isspace() and not text[end - 1].isspace():
            found.append((start, end))
    return found


def session_cookie(user) -> dict:
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {
        "name": settings.SESSION_COOKIE_NAME,
        "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def serve(port: int, kind: str = "runserver", workdir: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    env = os.environ.copy()
    if kind == "gunicorn":
        env |= deployed_env(workdir or Path(tempfile.mkdtemp()), port)
        manage = [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"]
        subprocess.run(manage, cwd=ROOT, env=env, check=True, **quiet)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        command = [str(gunicorn), "-c", "config/gunicorn.conf.py", "config.wsgi"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, **quiet)
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("the development server did not start")


def deployed_env(workdir: Path, port: int) -> dict[str, str]:
    """Settings as deployed (DEBUG off, WhiteNoise's manifest storage), over plain HTTP on
    the loopback: cookies not marked Secure, no HSTS."""
    return {
        "DEBUG": "false",
        "STATIC_ROOT": str(workdir / "static"),
        "SECURE_COOKIES": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }


def wait_for_mark(page, name: str, timeout: float = 60.0) -> None:
    """Poll from here: the page's CSP refuses the string evaluation wait_for_function uses."""
    deadline = time.monotonic() + timeout
    check = f"() => performance.getEntriesByName({name!r}).length > 0"
    while not page.evaluate(check):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {name} mark after {timeout:.0f} s")
        time.sleep(0.05)


def measure_load(page, url: str) -> dict[str, float]:
    # The highlights the server paints into the first screen (annotation_reader's
    # `reading_paragraphs`) are on screen with the first contentful paint; without them,
    # the first screen's highlights wait for the script (`annotate:painted`).
    served = page.request.get(url).text()
    first_screen = served.split('data-role="reading-more"', 1)[0]
    server_painted = '<mark class="hl' in first_screen
    page.goto(url, wait_until="domcontentloaded")
    wait_for_mark(page, "annotate:painted-all")
    drawn = page.evaluate(
        """() => new Promise((resolve) => {
          new PerformanceObserver((list) => {
            const entry = list.getEntries().find((e) => e.identifier === 'reading-first-screen');
            if (entry) resolve(entry.renderTime || entry.loadTime);
          }).observe({ type: 'element', buffered: true });
          setTimeout(() => resolve(0), 2000);
        })"""
    )
    timings = page.evaluate(
        """() => {
          const at = (name) => performance.getEntriesByName(name)[0];
          const nav = performance.getEntriesByType('navigation')[0];
          const all = at('annotate:painted-all').startTime;
          const tasks = window.__longTasks.filter(([start]) => start <= all);
          return {
            html: nav.responseEnd,
            dcl: nav.domContentLoadedEventEnd,
            painted: at('annotate:painted').startTime,
            paragraphs_first: at('annotate:painted').detail.paragraphs,
            painted_all: all,
            loaded_all: at('annotate:loaded-all') ? at('annotate:loaded-all').startTime : 0,
            longest_task: Math.max(0, ...tasks.map(([, d]) => d)),
            blocking: tasks.reduce((sum, [, d]) => sum + Math.max(0, d - 50), 0),
            marks: document.querySelectorAll('#reading mark.hl').length,
            fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0,
          };
        }"""
    )
    timings["timeline"] = page.evaluate(
        """() => {
          const nav = performance.getEntriesByType('navigation')[0];
          const rows = [[0, nav.responseStart, nav.responseEnd, 'page', '']];
          for (const e of performance.getEntriesByType('resource')) {
            rows.push([e.startTime, e.responseStart, e.responseEnd,
                       e.name.replace(location.origin, ''), e.renderBlockingStatus || '']);
          }
          for (const e of performance.getEntriesByType('paint')) {
            rows.push([e.startTime, 0, 0, e.name, '']);
          }
          rows.sort((a, b) => a[0] - b[0]);
          const ms = (t) => (t ? t.toFixed(0).padStart(5) : '     ');
          return rows.map(([s, f, e, n, b]) =>
            `${ms(s || 0.1)} ${ms(f)} ${ms(e)}  ${n.slice(0, 90)}`
            + (b === 'blocking' ? ' (blocks rendering)' : '')
          ).join('\\n');
        }"""
    )
    timings["script_painted"] = timings["painted"]
    timings["first_paragraph_drawn"] = drawn
    if server_painted and drawn:
        timings["painted"] = min(timings["painted"], drawn)
    return timings


def measure_save(page) -> dict[str, float]:
    """Drag over a word near the top with the real mouse, then click Highlight."""
    box = page.evaluate(
        """() => {
          const p = [...document.querySelectorAll('#reading p[data-start]')].find((el) =>
            el.firstChild?.nodeType === 3 && /\\w{6,} \\w{3,}/.test(el.firstChild.data));
          const node = p.firstChild;
          const m = /\\w{6,} \\w{3,}/.exec(node.data);
          p.scrollIntoView({block: 'center'});
          const rect = (i) => {
            const r = document.createRange();
            r.setStart(node, i);
            r.setEnd(node, i + 1);
            return r.getBoundingClientRect();
          };
          const a = rect(m.index), b = rect(m.index + m[0].length - 1);
          return {x1: a.left + 1, y: (a.top + a.bottom) / 2, x2: b.right - 1};
        }"""
    )
    page.mouse.move(box["x1"], box["y"])
    page.mouse.down()
    page.mouse.move(box["x2"], box["y"], steps=5)
    page.mouse.up()
    dialog = page.get_by_role("dialog", name="Annotate the selected passage")
    dialog.get_by_role("button", name="Highlight").click()
    wait_for_mark(page, "annotate:saved")
    return page.evaluate(
        """() => {
          const at = (name) => performance.getEntriesByName(name).at(-1).startTime;
          const before = (type, t) => window.__events[type].filter((e) => e <= t).at(-1);
          const popover = at('annotate:popover'), saved = at('annotate:saved');
          const toPopover = popover - before('pointerup', popover);
          const clickToSaved = saved - before('click', saved);
          return {to_popover: toPopover, click_to_saved: clickToSaved,
                  selection_to_saved: toPopover + clickToSaved};
        }"""
    )


def measure_filter(page) -> float:
    return page.evaluate(
        """() => {
          const select = document.querySelector('[data-role=filter-tag]');
          const started = performance.now();
          select.value = select.options[1].value;
          select.dispatchEvent(new Event('change'));
          const filtered = performance.now() - started;
          select.value = '';
          select.dispatchEvent(new Event('change'));
          return filtered;
        }"""
    )


def run(args: argparse.Namespace, workdir: Path) -> tuple[list[dict], str]:
    configure_django(workdir / "bench.sqlite3")
    from playwright.sync_api import sync_playwright

    from annotations.models import Annotation
    from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS

    user, source = build_library(args.size, args.annotations, args.seed)
    keep = set(Annotation.objects.values_list("pk", flat=True))
    port = free_port()
    server = serve(port, args.server, workdir)
    base = f"http://127.0.0.1:{port}"
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            version = browser.version
            for _ in range(args.runs):
                context = browser.new_context(viewport={"width": 1280, "height": 900})
                context.add_cookies([{**session_cookie(user), "url": base}])
                context.add_init_script(LONG_TASKS_JS)
                page = context.new_page()
                row = measure_load(page, f"{base}/sources/{source.pk}/")
                row |= measure_save(page)
                row["filter"] = measure_filter(page)
                results.append(row)
                context.close()
                Annotation.objects.exclude(pk__in=keep).delete()
            browser.close()
    finally:
        server.terminate()
        server.wait()
    return results, version


def machine(chromium: str, server: str) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{n:.1f}" for n in os.getloadavg())
    return (
        f"{cpu}, {os.cpu_count()} cores (load average {load}), {memory:.0f} GiB RAM; "
        f"{platform.system()} "
        f"{platform.release()}; Python {platform.python_version()}; Chromium {chromium} "
        f"(headless, Debian package); {SERVERS[server]}, SQLite"
    )


SERVERS = {
    "runserver": "Django runserver (DEBUG)",
    "gunicorn": "gunicorn (config/gunicorn.conf.py, DEBUG off, WhiteNoise)",
}


def report(args: argparse.Namespace, results: list[dict], chromium: str) -> str:
    def row(label: str, key: str) -> str:
        values = [r[key] for r in results]
        median, low, high = statistics.median(values), min(values), max(values)
        return f"| {label} | {median:.0f} | {low:.0f}–{high:.0f} |"

    lines = [
        f"Text: {args.size:,} code points (bench/corpus.py, seed {args.seed}), "
        f"{args.annotations:,} annotations; {args.runs} page loads, viewport 1280×900.",
        f"Machine: {machine(chromium, args.server)}.",
        "",
        "| measure (ms unless noted) | median | range |",
        "|---|---|---|",
        row("HTML received (responseEnd)", "html"),
        row("DOMContentLoaded", "dcl"),
        row("first contentful paint", "fcp"),
        row("first paragraph drawn (Element Timing)", "first_paragraph_drawn"),
        row("first screen of text and highlights painted", "painted"),
        row("… by the script (`annotate:painted`)", "script_painted"),
        row("paragraphs painted at that moment (count)", "paragraphs_first"),
        row("rest of the text and annotations streamed in (`annotate:loaded-all`)", "loaded_all"),
        row("every highlight painted, in idle time (`annotate:painted-all`)", "painted_all"),
        row("highlight runs in the page afterwards (count of `<mark>`)", "marks"),
        row("longest task until then", "longest_task"),
        row("total blocking time until then", "blocking"),
        row("mouse release → popover shown", "to_popover"),
        row("click on Highlight → saved, painted, listed", "click_to_saved"),
        row("selection to saved (the two above, without the reader's pause)", "selection_to_saved"),
        row("tag filter applied (list + repaint, synchronous)", "filter"),
    ]
    return "\n".join(lines)


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="marginalia-bench-") as workdir:
        results, chromium = run(args, Path(workdir))
    if args.timeline:
        for number, row in enumerate(results, 1):
            print(f"Load {number}: started, first byte, ended (ms)\n{row['timeline']}\n")
    print(report(args, results, chromium))


if __name__ == "__main__":
    main()
