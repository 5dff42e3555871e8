"""Benchmark: OCR pages per minute on this machine, typed Russian and English pages.

    .venv/bin/python bench/ocr.py [--pages 6] [--workers 2]

The pages are those the OCR tests read (tests/sources/pages/scans.py): real texts (the
Roshchin record, Russian; Truman's address of 12 March 1947, English) typed in a
fixed-pitch face on A4 at 300 dpi, with a stamp, a slight skew and toner specks, assembled
into an image-only PDF. Each page goes the way a scan goes through the `ocr` job: PDFium
renders it in grayscale at 300 dpi (`ocr._pdf_pages`), Tesseract reads it through
pytesseract (`ocr.read_page`, in the source's language). Measured twice:

- one job: the pages one after another in one process, as one OCR job reads a scan, with
  Tesseract on one thread (`ocr.read_page` sets OMP_THREAD_LIMIT=1 unless it is set), and
  again with Tesseract's OpenMP threads, one a core (its default, for comparison);
- `--workers` jobs at once: as many processes each reading its share of the pages, as a
  job queue with that many workers would on a machine with that many cores.

Prints a Markdown table: pages per minute, seconds per page, character accuracy (the
tests' measure: 1 − edit distance / length, white space collapsed).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
LANGUAGES = {"Russian": ("rus",), "English": ("eng",)}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=6, help="pages of each language")
    parser.add_argument("--workers", type=int, default=2, help="processes reading at once")
    return parser.parse_args()


def setup() -> None:
    import django

    django.setup()


def page_texts(language: str, count: int) -> list[str]:
    """`count` typed pages' worth of the language's text: its paragraphs, ~40 lines a page,
    starting again from the top when the text runs out."""
    from tests.sources.pages.scans import english_text, paragraphs, russian_text, wrapped

    text = russian_text() if language == "Russian" else english_text()
    pages, lines, current = [], 0, []
    pool = paragraphs(text)
    index = 0
    while len(pages) < count:
        paragraph = pool[index % len(pool)]
        index += 1
        needed = len(wrapped(paragraph, 66)) + 1
        if current and lines + needed > 40:
            pages.append("\n\n".join(current))
            current, lines = [], 0
        current.append(paragraph)
        lines += needed
    return pages


def scan(texts: list[str]) -> bytes:
    from tests.sources.pages.scans import image_only_pdf, typed_page

    return image_only_pdf([typed_page(t, seed=1950 + i) for i, t in enumerate(texts)])


def read(data: bytes, languages: tuple[str, ...], wanted: list[int]) -> list[tuple[int, str]]:
    """Render and OCR the pages `wanted` of the scan, in order; their texts."""
    setup()
    from sources import importers
    from sources.pages import ocr

    read_pages = []
    for scan_page in ocr._pdf_pages(0, importers.Original("scan.pdf", data)):
        if scan_page.page in wanted:
            text, _ = ocr.read_page(scan_page, languages)
            read_pages.append((scan_page.page, text))
    return read_pages


def one_job(data: bytes, languages: tuple[str, ...], count: int) -> tuple[float, list[str]]:
    started = time.perf_counter()
    found = read(data, languages, list(range(count)))
    return time.perf_counter() - started, [text for _, text in found]


def one_job_threads(data: bytes, languages: tuple[str, ...], count: int):
    """One job with Tesseract's OpenMP threads, one a core (what it does by default)."""
    os.environ["OMP_THREAD_LIMIT"] = str(os.cpu_count() or 1)
    try:
        return one_job(data, languages, count)
    finally:
        os.environ.pop("OMP_THREAD_LIMIT", None)


def at_once(data: bytes, languages: tuple[str, ...], count: int, workers: int):
    shares = [list(range(count))[n::workers] for n in range(workers)]
    with ProcessPoolExecutor(workers) as pool:
        started = time.perf_counter()
        results = list(pool.map(read, [data] * workers, [languages] * workers, shares))
        elapsed = time.perf_counter() - started
    found = sorted(pair for result in results for pair in result)
    return elapsed, [text for _, text in found]


def accuracy(expected: list[str], read_texts: list[str]) -> float:
    from tests.sources.pages.scans import character_accuracy

    return statistics.fmean(
        character_accuracy(e, r) for e, r in zip(expected, read_texts, strict=True)
    )


def machine() -> str:
    from sources.pages import ocr

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    cpu = subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu} cores, load average {load} at the start; Python {platform.python_version()}; "
        f"{ocr.engine()}"
    )


def main() -> None:
    args = parse_args()
    setup()
    print(f"Machine: {machine()}\n")
    print("| pages | way | seconds | pages per minute | seconds per page | accuracy |")
    print("|---|---|---|---|---|---|")
    for language, languages in LANGUAGES.items():
        texts = page_texts(language, args.pages)
        data = scan(texts)
        for way, run in (
            ("one job", lambda d=data, lg=languages: one_job(d, lg, args.pages)),
            (
                "one job, Tesseract's threads, one a core",
                lambda d=data, lg=languages: one_job_threads(d, lg, args.pages),
            ),
            (
                f"{args.workers} jobs at once",
                lambda d=data, lg=languages: at_once(d, lg, args.pages, args.workers),
            ),
        ):
            elapsed, read_texts = run()
            print(
                f"| {args.pages} {language} | {way} | {elapsed:.1f} | "
                f"{args.pages / elapsed * 60:.1f} | {elapsed / args.pages:.2f} | "
                f"{accuracy(texts, read_texts):.3f} |",
                flush=True,
            )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"\nLoad average at the end: {load}.")


if __name__ == "__main__":
    main()
