"""Benchmark: the page view of a 300-page PDF, in Chromium; memory while pages render.

    .venv/bin/python bench/pages.py [--pages 300] [--runs 5] [--render 60]

Builds a throw-away SQLite database and page cache, makes a text-layer PDF of `--pages`
A4 pages (40 typed lines each of the OCR tests' real texts, English and Russian;
tests/sources/pages/scans.py), imports it as a source's text the way an upload is
(`import_text_revision`: text, page map, every word's box), serves it with
`manage.py runserver` and opens the page view in Debian's Chromium through Playwright with
the browser tests' launch flags, at 1× and 2× device pixel ratio (the image the browser
picks from `srcset` differs). Per page load, in ms after navigation start:

- the page's HTML received, and DOMContentLoaded;
- first page visible: the first page's image has loaded (its `load` event);
- its words laid: the first page's invisible text layer is in place;
- cold: the page cache empty (PDFium renders the page); warm: served from the cache.

Then, for memory: the server process's resident set (VmRSS, and its peak VmHWM from
/proc) before and after rendering `--render` pages one after another at 1200 px (cache
emptied first), with the median time to render one.

Prints a Markdown report with the machine it ran on.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reading import configure_django, free_port, serve, session_cookie  # noqa: E402

FIRST_PAGE_JS = """
  window.__firstPage = {};
  document.addEventListener('load', (event) => {
    if (event.target.matches?.('#page-1 img')) window.__firstPage.image = performance.now();
  }, true);
  new MutationObserver(() => {
    if (!window.__firstPage.words && document.querySelector('#page-1 .page-text span')) {
      window.__firstPage.words = performance.now();
    }
  }).observe(document, {childList: true, subtree: true});
"""


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5, help="page loads to take the median of")
    parser.add_argument("--render", type=int, default=60, help="pages rendered for memory")
    return parser.parse_args()


def build(pages: int):
    """A user, a library, a source whose text is a `pages`-page text-layer PDF."""
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from sources.importers import import_text_revision
    from sources.models import Library, Source
    from tests.sources.pages.scans import english_text, russian_text, text_pdf, wrapped

    lines = wrapped(english_text()) + [""] + wrapped(russian_text())
    book = [[lines[(n * 40 + i) % len(lines)] for i in range(40)] for n in range(pages)]
    data = text_pdf(book)
    user = get_user_model().objects.create_user("bench", password="bench-page-view")
    library = Library.objects.create_for(user, name="Page view benchmark")
    source = Source.objects.create_with_creators(
        library=library, title="A 300-page typed record", creators=[]
    )
    started = time.perf_counter()
    revision = import_text_revision(source, SimpleUploadedFile("book.pdf", data), user=user)
    imported = time.perf_counter() - started
    return user, source, revision, len(data), imported


def first_page(page, url: str) -> dict[str, float]:
    page.goto(url, wait_until="domcontentloaded")
    deadline = time.monotonic() + 60
    while True:  # polled from here: the page's CSP refuses wait_for_function's eval
        found = page.evaluate("() => window.__firstPage")
        if "image" in found and "words" in found:
            nav = "() => performance.getEntriesByType('navigation')[0].toJSON()"
            timing = page.evaluate(nav)
            return {
                **found,
                "html": timing["responseEnd"],
                "dcl": timing["domContentLoadedEventEnd"],
            }
        if time.monotonic() > deadline:
            raise TimeoutError("the first page did not show within 60 s")
        time.sleep(0.02)


def memory(pid: int) -> tuple[int, int]:
    """The process's resident set and its peak, in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return (int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024)


def render_pages(base: str, cookie: dict, pages: list[int]) -> list[float]:
    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", f"{cookie['name']}={cookie['value']}")]
    times = []
    for pk in pages:
        started = time.perf_counter()
        with opener.open(f"{base}/pages/{pk}/image/?width=1200", timeout=60) as response:
            response.read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def median_range(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} | {min(values):.0f}–{max(values):.0f}"


def run(args: argparse.Namespace, workdir: Path) -> None:
    cache = workdir / "page-cache"
    os.environ["PAGE_CACHE_DIR"] = str(cache)
    configure_django(workdir / "bench.sqlite3")
    from playwright.sync_api import sync_playwright

    from sources.pages.models import Page
    from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS

    user, source, revision, size, imported = build(args.pages)
    page_ids = list(Page.objects.filter(text=revision).values_list("pk", flat=True))
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    port = free_port()
    server = serve(port)
    base = f"http://127.0.0.1:{port}"
    cookie = session_cookie(user)
    rows: dict[str, list[float]] = {}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            version = browser.version
            for scale in (1, 2):
                for state in ("cold", "warm"):
                    for _ in range(args.runs):
                        if state == "cold":
                            shutil.rmtree(cache, ignore_errors=True)
                        context = browser.new_context(
                            viewport={"width": 1280, "height": 900}, device_scale_factor=scale
                        )
                        context.add_cookies([{**cookie, "url": base}])
                        context.add_init_script(FIRST_PAGE_JS)
                        found = first_page(context.new_page(), f"{base}/sources/{source.pk}/pages/")
                        context.close()
                        for what in ("html", "dcl", "image", "words"):
                            rows.setdefault(f"{what} {scale}× {state}", []).append(found[what])
            browser.close()
        shutil.rmtree(cache, ignore_errors=True)
        before = memory(server.pid)
        times = render_pages(base, cookie, page_ids[: args.render])
        after = memory(server.pid)
    finally:
        server.terminate()
        server.wait()
    report(args, rows, times, before, after, size, imported, load, version)


def report(args, rows, times, before, after, size, imported, load, version) -> None:
    end_load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(
        f"Machine: {os.cpu_count()} cores; load average {load} at the start, {end_load} at "
        f"the end; Python {platform.python_version()}; Chromium {version} (headless); "
        f"Django runserver, SQLite.\n"
    )
    print(
        f"{args.pages}-page PDF, {size / 1e6:.1f} MB, imported with its pages and word "
        f"boxes in {imported:.1f} s.\n"
    )
    print("| page view, first page (ms after navigation start) | median | range |")
    print("|---|---|---|")
    labels = {
        "html": "HTML received (responseEnd)",
        "dcl": "DOMContentLoaded",
        "image": "first page visible (image loaded)",
        "words": "its words laid",
    }
    for key, values in rows.items():
        what, scale, state = key.split()
        print(f"| {labels[what]}, {scale} density, {state} cache | {median_range(values)} |")
    print(
        f"\nRendering {len(times)} pages at 1200 px one after another (cache empty): "
        f"median {statistics.median(times):.0f} ms a page (range {min(times):.0f}–"
        f"{max(times):.0f}); server resident set {before[0]} MiB before, {after[0]} MiB "
        f"after, peak {after[1]} MiB (peak before: {before[1]} MiB)."
    )


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="marginalia-pages-bench-") as workdir:
        run(args, Path(workdir))


if __name__ == "__main__":
    main()
