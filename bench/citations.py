"""Benchmark: a 10,000-entry Chicago bibliography, pandoc alone against our cached engine.

    .venv/bin/python bench/citations.py [--items 10000] [--style chicago-notes-bibliography]
                                        [--repeat 3] [--no-readme]

Times, on the same synthetic items (archival records with fond/opis/delo and translators,
letters with recipients and circa dates, magazine and newspaper articles, books, Cyrillic
and Chinese names):
  1. pandoc alone: one `pandoc --citeproc -t html` run over all items (what any tool
     calling pandoc pays every time);
  2. our engine, cold (empty cache): rendering plus the per-item cache fill;
  3. our engine, warm: every entry and the order come from the cache;
  4. our engine after one source was edited (its title corrected): its context group
     re-rendered, its place found among the entries around its old one;
  5. our engine after another source's first author changed (it moves far): the same,
     then its place found among pivots of the order (`engine._place`).
With --repeat N, runs 1 and 2 are made N times, taking turns (the cache emptied before
each cold run), and their medians recorded: on a shared machine a single wall time is noise.
The results go to the "Citations" section of bench/README.md (other sections are kept).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.cache import cache  # noqa: E402

from citations import engine  # noqa: E402

README = ROOT / "bench" / "README.md"
START, END = "<!-- citations-bench:start -->", "<!-- citations-bench:end -->"

RUSSIAN = [
    ("Громыко", "Андрей Андреевич"),
    ("Молотов", "Вячеслав Михайлович"),
    ("Рощин", "Николай Васильевич"),
    ("Юдин", "Павел Фёдорович"),
    ("Хрущёв", "Никита Сергеевич"),
    ("Вышинский", "Андрей Януарьевич"),
    ("Червоненко", "Степан Васильевич"),
    ("Ковалёв", "Иван Владимирович"),
]
LATIN = [
    ("Weathersby", "Kathryn"),
    ("Chen", "Jian"),
    ("Shen", "Zhihua"),
    ("Zubok", "Vladislav"),
    ("Westad", "Odd Arne"),
    ("Radchenko", "Sergey"),
    ("Lüthi", "Lorenz M."),
    ("Heinzig", "Dieter"),
    ("Goncharov", "Sergei N."),
    ("Kramer", "Mark"),
]
CHINESE = [("Zhou", "Enlai"), ("Mao", "Zedong"), ("Liu", "Shaoqi"), ("Deng", "Xiaoping")]
ARCHIVES = [
    (
        "Archive of Foreign Policy of the Russian Federation (AVP RF)",
        "Moscow",
        "f. 0100, op. {a}, pap. {b}, d. {c}, ll. {d}–{e}",
    ),
    (
        "Russian State Archive of Contemporary History (RGANI)",
        "Moscow",
        "f. 5, op. {a}, d. {c}, ll. {d}–{e}",
    ),
    (
        "Archive of the President of the Russian Federation (APRF)",
        "Moscow",
        "f. 45, op. 1, d. {c}, ll. {d}–{e}",
    ),
    ("PRC Foreign Ministry Archive", "Beijing", "{a}-{b}{c}-0{d}"),
    (
        "Stiftung Archiv der Parteien und Massenorganisationen der DDR (SAPMO)",
        "Berlin",
        "DY 30/J IV 2/202/{c}",
    ),
]
GENRES = ["Record of conversation", "Telegram", "Memorandum", "Report", "Cable", "Minutes"]
TOPICS = [
    "the Sino-Soviet Treaty",
    "the Korean War",
    "the Berlin Crisis",
    "the Taiwan Strait",
    "economic aid to the PRC",
    "the Warsaw Pact",
    "the Hungarian events",
    "nuclear cooperation",
]
MAGAZINES = ["Foreign Policy", "The Atlantic", "Новый мир", "Time", "Der Spiegel", "Огонёк"]
PUBLISHERS = [
    ("Stanford University Press", "Stanford"),
    ("Woodrow Wilson Center Press", "Washington, DC"),
    ("РОССПЭН", "Москва"),
    ("University of North Carolina Press", "Chapel Hill"),
    ("Harvard University Press", "Cambridge, MA"),
]


def person(rng: random.Random, pool: list[tuple[str, str]]) -> dict:
    family, given = rng.choice(pool)
    return {"family": family, "given": given}


def date(rng: random.Random, start: int, end: int) -> dict:
    year = rng.randint(start, end)
    kind = rng.random()
    if kind < 0.1:
        return {"date-parts": [[year, rng.randint(1, 12)]], "circa": True}
    if kind < 0.15:
        return {"date-parts": [[year], [year + rng.randint(1, 4)]]}
    return {"date-parts": [[year, rng.randint(1, 12), rng.randint(1, 28)]]}


def archival(rng: random.Random, n: int) -> dict:
    archive, place, pattern = rng.choice(ARCHIVES)
    numbers = {k: rng.randint(1, 400) for k in "abc"} | {"d": rng.randint(1, 50)}
    numbers["e"] = numbers["d"] + rng.randint(1, 9)
    item = {
        "type": "manuscript",
        "genre": rng.choice(GENRES),
        "title": f"{rng.choice(GENRES)} on {rng.choice(TOPICS)}, no. {n}",
        "author": [person(rng, RUSSIAN + CHINESE)],
        "issued": date(rng, 1945, 1975),
        "archive": archive,
        "archive-place": place,
        "archive_location": pattern.format(**numbers),
        "language": rng.choice(["ru", "zh", "de"]),
        "URL": f"https://digitalarchive.wilsoncenter.org/document/{100000 + n}",
    }
    if rng.random() < 0.6:
        item["translator"] = [person(rng, LATIN)]
    return item


def letter(rng: random.Random, n: int) -> dict:
    return archival(rng, n) | {
        "type": "personal_communication",
        "title": f"Letter on {rng.choice(TOPICS)} ({n})",
        "recipient": [person(rng, CHINESE + RUSSIAN)],
    }


def article(rng: random.Random, n: int) -> dict:
    return {
        "type": rng.choice(["article-magazine", "article-newspaper"]),
        "title": f"What {rng.choice(TOPICS)} Taught Us, Part {n}",
        "author": [person(rng, LATIN + RUSSIAN)],
        "container-title": rng.choice(MAGAZINES),
        "issued": date(rng, 1950, 2024),
        "page": f"{rng.randint(1, 80)}–{rng.randint(81, 120)}",
    }


def book(rng: random.Random, n: int) -> dict:
    publisher, place = rng.choice(PUBLISHERS)
    return {
        "type": "book",
        "title": f"A History of {rng.choice(TOPICS)}, Volume {n}",
        "author": [person(rng, LATIN + RUSSIAN) for _ in range(rng.randint(1, 3))],
        "publisher": publisher,
        "publisher-place": place,
        "issued": {"date-parts": [[rng.randint(1960, 2024)]]},
    }


def synthetic_items(count: int, seed: int = 1949) -> list[dict]:
    rng = random.Random(seed)
    makers = [archival] * 5 + [letter] * 2 + [article] * 2 + [book]
    items = []
    for n in range(count):
        item = rng.choice(makers)(rng, n)
        items.append({"id": f"item{n:05d}", "citation-key": f"item{n:05d}", **item})
    return items


@contextmanager
def progress(label: str, step: int, steps: int):
    """A bar that fills with the steps done and shows the time of the current one."""
    started = time.perf_counter()
    done = threading.Event()

    def draw() -> None:
        while not done.wait(0.2):
            draw_line(time.perf_counter() - started)

    def draw_line(elapsed: float) -> None:
        bar = "#" * (step * 20 // steps) + "-" * (20 - step * 20 // steps)
        sys.stderr.write(f"\r[{bar}] {step + 1}/{steps} {label:<38} {elapsed:7.2f} s")
        sys.stderr.flush()

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        draw_line(time.perf_counter() - started)
        sys.stderr.write("\n")


def cpu_seconds() -> float:
    """CPU time of this process and of the pandoc processes it has waited for."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(label: str, step: int, steps: int, work) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds, result): on a shared machine CPU time is the steadier."""
    with progress(label, step, steps):
        started, cpu = time.perf_counter(), cpu_seconds()
        result = work()
        return time.perf_counter() - started, cpu_seconds() - cpu, result


def pandoc_alone(items: list[dict], style: str) -> int:
    """What calling pandoc directly costs: one citeproc run, HTML out."""
    import json

    with tempfile.TemporaryDirectory() as folder:
        refs = Path(folder) / "refs.json"
        refs.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
        command = [
            engine.pandoc_path(),
            "-f",
            "markdown",
            "-t",
            "html",
            "--citeproc",
            "--csl",
            str(engine.resolve_style(style)),
            "-M",
            f"bibliography={refs}",
        ]
        document = "---\nnocite: '@*'\n---\n"
        result = subprocess.run(command, input=document, capture_output=True, text=True, check=True)
    return result.stdout.count('class="csl-entry"')


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        model = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = model[1].strip() if model else cpu
    except OSError:
        pass
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}), load average {load}, Python "
        f"{platform.python_version()}, {engine.pandoc_version()}, cache: {backend}"
    )


def write_readme(rows: list[tuple[str, float, float]], count: int, style: str, repeat: int) -> None:
    table = "\n".join(f"| {label} | {wall:.2f} s | {cpu:.2f} s |" for label, wall, cpu in rows)
    runs = f" The first two rows: medians of {repeat} runs each." if repeat > 1 else ""
    section = f"""{START}
## Citations

`bench/citations.py --items {count} --style {style}`: a {count:,}-entry bibliography of
synthetic items (archival records, letters, articles, books; Cyrillic and Chinese names),
rendered to HTML. Measured {time.strftime("%Y-%m-%d")} on {machine()}.{runs}

| run | wall time | CPU time (with pandoc's) |
|---|---|---|
{table}

Cold / pandoc alone (wall): {rows[1][1] / rows[0][1]:.2f}. Warm means every entry and the
selection's order came from Django's cache. Cold is one pandoc run per core, each rendering
and sorting a part of the selection (`pandoc --citeproc -t html`, pandoc's own writer, no
Lua; parts cut where the first author's initial changes, nearest an even split), and one
small sort checking the parts' bounds while the entries are cached. After an edit, the
edited entry's group (items whose first author has the same name) is rendered again while
pandoc sorts the entry among the {2 * engine.NEAR} entries around its old place, in
parallel; an entry that left that stretch is then placed among {engine.PIVOTS} pivots of
the cached order and among the entries between its two. See `citations/engine.py` and
`docs/decisions/0004-citations-pandoc-and-cache.md`. Timings on a shared machine are noisy
(the load average is recorded above): compare CPU times, and read walls as ratios.
{END}"""
    text = README.read_text(encoding="utf-8") if README.exists() else "# Benchmarks\n"
    if START in text and END in text:
        text = text[: text.index(START)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    README.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--style", default="chicago-notes-bibliography")
    parser.add_argument("--repeat", type=int, default=1, help="runs of the first two steps")
    parser.add_argument("--no-readme", action="store_true", help="print, do not record")
    args = parser.parse_args()
    items = synthetic_items(args.items)
    render = lambda selection: engine.render_bibliography(selection, style=args.style)  # noqa: E731
    cache.clear()
    edited = [*items[:-1], items[-1] | {"title": items[-1]["title"] + " (corrected)"}]
    moved = [items[0] | {"author": [{"family": "Aalto", "given": "Anna"}]}, *edited[1:]]
    steps = [
        ("pandoc alone (one citeproc run)", lambda: pandoc_alone(items, args.style)),
        ("our engine, cold (empty cache)", lambda: len(render(items))),
        ("our engine, warm (all cached)", lambda: len(render(items))),
        ("our engine, after one source edited", lambda: len(render(edited))),
        ("our engine, after one first author changed", lambda: len(render(moved))),
    ]
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label, _ in steps}
    plan = [*steps[:2] * max(1, args.repeat), *steps[2:]]
    for step, (label, work) in enumerate(plan):
        if label == steps[1][0]:
            cache.clear()  # cold: nothing cached, not even the order
        wall, cpu, entries = timed(label, step, len(plan), work)
        if entries != args.items:
            raise SystemExit(f"{label}: {entries} entries for {args.items} items")
        samples[label].append((wall, cpu))
    rows = [
        (label, statistics.median(w for w, _ in runs), statistics.median(c for _, c in runs))
        for label, runs in samples.items()
    ]
    for label, runs in list(samples.items())[:2]:
        if len(runs) > 1:
            walls = ", ".join(f"{w:.2f}" for w, _ in runs)
            cpus = ", ".join(f"{c:.2f}" for _, c in runs)
            print(f"{label}: walls {walls} s; CPU {cpus} s")
    for label, wall, cpu in rows:
        print(f"{label:<42} {wall:8.2f} s wall {cpu:8.2f} s CPU")
    print(f"cold / pandoc alone: {rows[1][1] / rows[0][1]:.2f} (wall), load {machine()}")
    if not args.no_readme:
        write_readme(rows, args.items, args.style, args.repeat)
        print(f"recorded in {README.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
