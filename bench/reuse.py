"""Benchmark: text-reuse detection (sources/reuse/detection.py) on a large generated library.

    .venv/bin/python bench/reuse.py [--sources 50000] [--queries 300] [--seed N]
                                    [--database-url postgres://…/scratch] [--keep]

Three measurements, printed as the Markdown table bench/README.md records:

1. Indexing a 1 MB text (bench/corpus.py's multilingual text): words and winnowed
   fingerprints in memory, then `index_text` storing them, as the import hook does.
2. Query time against a library of `--sources` generated texts (English, some Russian
   and Chinese, drawn from a 30,000-word Zipf lexicon so that word sequences are about
   as rare as in prose): `find_passage` for a highlighted passage, and `detect` for a
   whole new text of about 2,000 characters.
3. Precision and recall on generated queries: passages copied from library texts into
   new text, verbatim or near-verbatim (punctuation changed, years dropped, one word in
   ten altered or dropped), against paraphrases (one word in three replaced, clauses
   swapped) and unrelated text, which should not be reported. A reported passage is
   right when it names the text copied from and overlaps the copied words there.

The library is written straight into the tables (one COPY on PostgreSQL, executemany on
SQLite) with the fingerprints `sources.reuse.detection` computes; the per-text import path is what
step 1 times. The default database is a fresh SQLite file in a temporary folder; give
`--database-url` for PostgreSQL (a scratch database: the tables are migrated into it and
the benchmark's library is deleted at the end unless --keep).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MIN_WORDS = 12


class Progress:
    """A one-line progress bar on a terminal; silent when the output is not one."""

    def __init__(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 1), 0
        self.live = sys.stderr.isatty()
        self.started = time.perf_counter()
        self.update(0)

    def update(self, step: int = 1) -> None:
        self.done += step
        if self.live and (self.done % max(self.total // 200, 1) == 0 or self.done >= self.total):
            filled = 30 * self.done // self.total
            bar = "█" * filled + "·" * (30 - filled)
            elapsed = time.perf_counter() - self.started
            sys.stderr.write(
                f"\r{self.label:<28} {bar} {self.done:>7,}/{self.total:,} {elapsed:6.1f} s"
            )
            sys.stderr.flush()

    def close(self) -> None:
        if self.live:
            sys.stderr.write("\n")


# --- generated prose ---------------------------------------------------------------------------


def _split(text: str) -> list[str]:
    return text.split()


SYLLABLES = _split("""
ba be bi bo bu da de di do du fa fe fi ga ge go ka ke ki ko ku la le li lo lu ma me mi mo mu
na ne ni no nu pa pe pi po pu ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo za zo
an en in on ar er ir or al el il ol as es is os at et it ot
""")
FUNCTION_WORDS = _split("""
the of and to in that a is was for it with as on not he be by his this had at which are from
but have we they you all were their would there been one has will more if no so what about
when can only other into its than them these some out then could may should also must very
""")
RUSSIAN_SYLLABLES = _split(
    "ба ва га да жа за ка ла ма на па ра са та ко ло но по ро то ви ни ри ти ек ов ин ый ая ое"
)
CHINESE_CHARS = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她"
    "里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老"
    "从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机"
    "给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产"
    "入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提"
)


def _lexicon(rng: random.Random, syllables: list[str], size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choices(syllables, k=rng.choice((1, 2, 2, 3, 3, 4)))))
    return sorted(words)


@dataclass
class Prose:
    """Deterministic generated prose: English-like, Russian-like and Chinese-like."""

    rng: random.Random

    def __post_init__(self) -> None:
        lex = random.Random(1)
        english = FUNCTION_WORDS + _lexicon(lex, SYLLABLES, 30_000)
        russian = _lexicon(lex, RUSSIAN_SYLLABLES, 20_000)
        self.english = english
        self.english_cum = list(accumulate(1.0 / (r + 2) for r in range(len(english))))
        self.russian = russian
        self.russian_cum = list(accumulate(1.0 / (r + 2) for r in range(len(russian))))
        self.chinese = list(CHINESE_CHARS)
        self.chinese_cum = list(accumulate(1.0 / (r + 2) ** 0.7 for r in range(len(self.chinese))))

    def sentence(self, language: str = "en") -> str:
        rng = self.rng
        if language == "zh":
            chars = rng.choices(self.chinese, cum_weights=self.chinese_cum, k=rng.randint(12, 40))
            return "".join(chars) + rng.choice("。。。？")
        words, cum = (
            (self.russian, self.russian_cum)
            if language == "ru"
            else (self.english, self.english_cum)
        )
        chosen = rng.choices(words, cum_weights=cum, k=rng.randint(8, 28))
        if rng.random() < 0.3:
            chosen.insert(rng.randrange(len(chosen)), str(rng.randint(1900, 1999)))
        if len(chosen) > 10:
            chosen[rng.randrange(2, len(chosen) - 2)] += ","
        chosen[0] = chosen[0].capitalize()
        return " ".join(chosen) + "."

    def text(self, size: int, language: str = "en") -> str:
        paragraphs, length = [], 0
        while length < size:
            count = self.rng.randint(2, 5)
            sep = "" if language == "zh" else " "
            paragraphs.append(sep.join(self.sentence(language) for _ in range(count)))
            length += len(paragraphs[-1]) + 2
        return "\n\n".join(paragraphs)

    def language(self) -> str:
        roll = self.rng.random()
        return "ru" if roll < 0.1 else "zh" if roll < 0.2 else "en"


# --- the library ---------------------------------------------------------------------------------


def setup_django(database_url: str | None) -> str | None:
    """Migrate the database; returns the temporary folder of the default SQLite file."""
    folder = None
    if database_url is None:
        folder = tempfile.mkdtemp(prefix="reuse-bench-")
        database_url = f"sqlite:///{folder}/bench.sqlite3"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return folder


def make_library(name: str):
    from django.contrib.auth import get_user_model

    from sources.models import Library

    user, _ = get_user_model().objects.get_or_create(username="reuse-bench")
    return Library.objects.create_for(user, name=name)


def fill_library(library, prose: Prose, count: int, size: int) -> list[int]:
    """`count` sources with one text each, fingerprints stored; returns the text ids."""
    from django.db import transaction

    progress = Progress("generating the library", count)
    text_ids: list[int] = []
    for first in range(0, count, 1000):
        batch = range(first, min(first + 1000, count))
        with transaction.atomic():
            text_ids.extend(_fill_batch(library, prose, batch, size))
        progress.update(len(batch))
    progress.close()
    settle()
    return text_ids


def settle() -> None:
    """What autovacuum does after a bulk load, before the timed queries: fresh planner
    statistics, and a visibility map so that index-only scans need not visit the table."""
    from django.db import connection

    table = connection.ops.quote_name("sources_reusefingerprint")
    with connection.cursor() as cursor:
        cursor.execute(
            f"VACUUM ANALYZE {table}" if connection.vendor == "postgresql" else "ANALYZE"
        )


def _fill_batch(library, prose: Prose, batch: range, size: int) -> list[int]:
    from sources.models import Source, SourceText

    sources = Source.objects.bulk_create(
        Source(library=library, title=f"Generated source {n}", citation_key=f"gen{n:06d}")
        for n in batch
    )
    texts = [prose.text(size, prose.language()) for _ in batch]
    rows = SourceText.objects.bulk_create(
        SourceText(
            source=source,
            revision=1,
            text=text,
            sha256=hashlib.sha256(text.encode()).hexdigest(),
        )
        for source, text in zip(sources, texts, strict=True)
    )
    store_fingerprints(library.pk, rows)
    return [row.pk for row in rows]


def store_fingerprints(library_id: int, texts) -> None:
    from django.db import connection

    from sources.reuse import detection as reuse

    rows = [
        (library_id, text.pk, value, words.starts[index])
        for text in texts
        for words in [reuse.words_of(text.text)]
        for value, index in reuse.fingerprints(words)
    ]
    table = "sources_reusefingerprint"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            columns = "(library_id, text_id, hash, start)"
            with cursor.cursor.copy(f"COPY {table} {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(
                f"INSERT INTO {table} (library_id, text_id, hash, start) VALUES (%s, %s, %s, %s)",
                rows,
            )


def remove_library(library) -> None:
    """Delete the generated library from a scratch database, the bulk tables first (a
    cascade from the library would record history for 50,000 sources one by one)."""
    from django.db import transaction

    from sources.models import Source, SourceText
    from sources.reuse.models import ReuseFingerprint

    with transaction.atomic():
        ReuseFingerprint.objects.filter(library=library)._raw_delete(ReuseFingerprint.objects.db)
        texts = SourceText.objects.filter(source__library=library)
        texts._raw_delete(texts.db)
        sources = Source.objects.filter(library=library)
        sources._raw_delete(sources.db)
        library.delete()


@contextmanager
def without_reuse_hook():
    from django.db.models.signals import post_save

    from sources.models import SourceText
    from sources.reuse.detection import index_on_import

    post_save.disconnect(index_on_import, sender=SourceText, dispatch_uid="reuse-index")
    try:
        yield
    finally:
        post_save.connect(index_on_import, sender=SourceText, dispatch_uid="reuse-index")


# --- 1. indexing a 1 MB text --------------------------------------------------------------------


def bench_indexing(library, repeat: int) -> dict[str, float]:
    from django.db import transaction

    from bench.corpus import make_text
    from sources.models import Source, SourceText
    from sources.reuse import detection as reuse

    text = make_text(1_000_000, seed=7)
    source = Source.objects.create(library=library, title="A 1 MB text", citation_key="onemb")
    memory, cpu, stored, stored_cpu = [], [], [], []
    progress = Progress("indexing a 1 MB text", repeat)
    for run in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        words = reuse.words_of(text)
        reuse.fingerprints(words)
        memory.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
        with transaction.atomic(), without_reuse_hook():
            # Other apps' hooks on a new revision (the search index) are not timed here.
            revision = SourceText.objects.add_revision(source, text=text, note=f"run {run}")
            started, cpu_started = time.perf_counter(), time.process_time()
            reuse.index_text(revision)  # what the reuse hook does, in the import's transaction
            stored.append(time.perf_counter() - started)
            stored_cpu.append(time.process_time() - cpu_started)
        progress.update()
    progress.close()
    count = revision.reuse_fingerprints.count()
    return {
        "chars": len(text),
        "words": len(reuse.words_of(text)),
        "fingerprints": count,
        "memory": statistics.median(memory),
        "memory_best": min(memory),
        "cpu": statistics.median(cpu),
        "stored_cpu": statistics.median(stored_cpu),
        "stored_best": min(stored),
        "stored": statistics.median(stored),
    }


# --- 2. query time -----------------------------------------------------------------------------


def bench_queries(library, prose: Prose, text_ids: list[int], count: int) -> dict[str, list]:
    from django.db import transaction

    from sources.models import Source, SourceText
    from sources.reuse import detection as reuse

    rng = prose.rng
    source = Source.objects.create(library=library, title="Query text", citation_key="queries")
    passage_times, detect_times, missed = [], [], 0
    progress = Progress("timing queries", count)
    for n in range(count):
        original = SourceText.objects.get(pk=rng.choice(text_ids))
        copied = pick_passage(rng, original.text, 30)[2]
        query = prose.text(1000) + "\n\n" + copied + "\n\n" + prose.text(800)
        with transaction.atomic():  # as an import: the hook indexes the text in here
            text = SourceText.objects.add_revision(source, text=query, note=f"query {n}")
        start = query.index(copied)
        started = time.perf_counter()
        found = reuse.find_passage(library.pk, text, start, start + len(copied))
        passage_times.append(time.perf_counter() - started)
        missed += not any(p.other_text_id == original.pk for p in found)
        started = time.perf_counter()
        reuse.detect(text)
        detect_times.append(time.perf_counter() - started)
        progress.update()
    progress.close()
    return {"find_passage": passage_times, "detect": detect_times, "missed": missed}


WORD_SPANS = re.compile(r"\S+")


def pick_passage(rng: random.Random, text: str, words: int) -> tuple[int, int, str]:
    """A run of about `words` words (characters for Chinese) inside one paragraph."""
    paragraphs = [p for p in text.split("\n\n") if len(p) > 40]
    paragraph = rng.choice(paragraphs)
    offset = text.index(paragraph)
    if not paragraph.isascii() and " " not in paragraph:  # Chinese: characters are words
        spans = [(i, i + 1) for i, char in enumerate(paragraph) if char.isalpha()]
    else:  # numbers are not words to the detector (a scraper may drop them)
        spans = [m.span() for m in WORD_SPANS.finditer(paragraph) if not m.group().isdigit()]
    first = rng.randrange(max(len(spans) - words, 1))
    last = min(first + words, len(spans)) - 1
    start, end = spans[first][0], spans[last][1]
    return offset + start, offset + end, paragraph[start:end]


# --- 3. precision and recall ---------------------------------------------------------------------


def near_verbatim(rng: random.Random, passage: str, prose: Prose) -> str:
    """What copying does to a passage: punctuation, dropped years, a word in ten altered."""
    passage = re.sub(r"(?<!\d)\d{4}(?!\d)", "", passage)
    passage = passage.replace(",", " ,").replace(".", ";")
    if " " not in passage:  # Chinese: alter one character in ten
        chars = list(passage)
        for i in range(0, len(chars), 10):
            chars[rng.randrange(i, min(i + 10, len(chars)))] = rng.choice(prose.chinese)
        return "".join(chars)
    words = passage.split(" ")
    for i in range(0, len(words), 10):
        j = rng.randrange(i, min(i + 10, len(words)))
        words[j] = "" if rng.random() < 0.5 else rng.choice(prose.english[200:])
    return " ".join(word for word in words if word)


def paraphrase(rng: random.Random, passage: str, prose: Prose) -> str:
    """A rewording: one word in three replaced, clauses of three to six words reordered."""
    tokens = list(passage) if " " not in passage else passage.split()
    pool = prose.chinese if " " not in passage else prose.english
    tokens = [rng.choice(pool) if rng.random() < 0.34 else token for token in tokens]
    clauses, i = [], 0
    while i < len(tokens):
        size = rng.randint(3, 6)
        clauses.append(tokens[i : i + size])
        i += size
    rng.shuffle(clauses)
    return ("" if " " not in passage else " ").join(t for clause in clauses for t in clause)


@dataclass
class Case:
    kind: str  # verbatim | near-verbatim | paraphrase | unrelated
    words: int
    original: int | None
    span: tuple[int, int] | None  # the copied characters in the original


KINDS = ("verbatim", "near-verbatim", "paraphrase", "unrelated")
LENGTHS = (12, 20, 40, 80)


def bench_accuracy(library, prose: Prose, text_ids: list[int], count: int) -> dict:
    from sources.reuse import detection as reuse

    rng = prose.rng
    results = {kind: {length: [0, 0, 0, 0] for length in LENGTHS} for kind in KINDS}
    progress = Progress("precision and recall", count * len(KINDS))
    for n in range(count):
        length = LENGTHS[n % len(LENGTHS)]
        for kind in KINDS:
            case, query = make_case(rng, prose, kind, length, text_ids)
            found = reuse.detect_words(
                library.pk, reuse.words_of(query), exclude_source=None, min_words=MIN_WORDS
            )
            right = [p for p in found if is_right(case, p)]
            row = results[kind][length]
            row[0] += 1  # cases
            row[1] += bool(right)  # cases with the right passage reported
            row[2] += len(found) - len(right)  # wrong passages reported
            row[3] += sum(1 for p in found if overlaps_copy(case, p))  # …of them from the copy
            progress.update()
    progress.close()
    return results


def make_case(
    rng: random.Random, prose: Prose, kind: str, length: int, text_ids: list[int]
) -> tuple[Case, str]:
    from sources.models import SourceText

    before, after = prose.text(600), prose.text(600)
    if kind == "unrelated":
        return Case(kind, length, None, None), f"{before}\n\n{prose.text(400)}\n\n{after}"
    original = SourceText.objects.get(pk=rng.choice(text_ids))
    start, end, passage = pick_passage(rng, original.text, length)
    change = {
        "verbatim": lambda r, p, _: p,
        "near-verbatim": near_verbatim,
        "paraphrase": paraphrase,
    }
    copied = change[kind](rng, passage, prose)
    return Case(kind, length, original.pk, (start, end)), f"{before}\n\n{copied}\n\n{after}"


def is_right(case: Case, passage) -> bool:
    return case.kind != "paraphrase" and overlaps_copy(case, passage)


def overlaps_copy(case: Case, passage) -> bool:
    """Does the passage name the text copied from, and overlap the copied words there?"""
    if case.original is None:
        return False
    start, end = case.span
    return (
        passage.other_text_id == case.original
        and passage.other_start < end
        and start < passage.other_end
    )


# --- report --------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def report(args, indexing: dict, queries: dict | None, accuracy: dict | None, rows: int) -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        engine = f"SQLite {connection.Database.sqlite_version}"
    else:
        engine = f"PostgreSQL {connection.pg_version // 10000}.{connection.pg_version % 10000}"
    lines = [
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, database {engine}; load average "
        f"{os.getloadavg()[0]:.1f} when the report was written (a shared machine: read the "
        "times as upper bounds).",
        f"Library: {args.sources:,} generated sources of about {args.size:,} characters "
        f"({rows:,} fingerprints stored); seed {args.seed}.",
        "",
        "| measurement | result |",
        "|---|---|",
        f"| index a 1 MB text ({indexing['chars']:,} characters, {indexing['words']:,} words): "
        f"words and fingerprints in memory, median (best) of {args.index_runs} | "
        f"{indexing['memory']:.2f} s ({indexing['memory_best']:.2f} s); "
        f"{indexing['cpu']:.2f} s CPU |",
        f"| … as the import hook does: `index_text` storing {indexing['fingerprints']:,} "
        f"fingerprints and dropping the previous revision's | {indexing['stored']:.2f} s "
        f"({indexing['stored_best']:.2f} s); {indexing['stored_cpu']:.2f} s CPU in Python"
        f"{' and SQLite' if connection.vendor == 'sqlite' else ''} |",
    ]
    if queries is None:
        return "\n".join(lines)
    for name, label in (
        ("find_passage", "highlighted passage (30 words) → other occurrences"),
        ("detect", "whole new text (~2,000 characters) → shared passages"),
    ):
        times = queries[name]
        lines.append(
            f"| query: {label}, median / 95th percentile of {len(times)} | "
            f"{1000 * statistics.median(times):.0f} ms / {1000 * percentile(times, 0.95):.0f} ms |"
        )
    lines.append(
        f"| highlighted copies not found by `find_passage` | {queries['missed']} of "
        f"{len(queries['detect'])} |"
    )
    lines += ["", accuracy_table(accuracy)]
    return "\n".join(lines)


def accuracy_table(results: dict) -> str:
    lines = [
        "| queries | " + " | ".join(f"{n} words" for n in LENGTHS) + " | wrong passages reported |",
        "|---|" + "---|" * (len(LENGTHS) + 1),
    ]
    tp = positives = fp = from_copy = 0
    for kind in KINDS:
        cells = []
        wrong = 0
        for length in LENGTHS:
            cases, hit, bad, copied = results[kind][length]
            wrong += bad
            from_copy += copied if kind == "paraphrase" else 0
            if kind in ("verbatim", "near-verbatim"):
                cells.append(f"{hit}/{cases} found")
                tp, positives = tp + hit, positives + cases
            else:
                cells.append(f"{bad} reported")
        fp += wrong
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | {wrong} |")
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / positives if positives else 0.0
    lines += [
        "",
        f"Precision {precision:.3f}, recall {recall:.3f} (copied passages found in the right "
        f"source at the right place; every other reported passage counts against precision, "
        f"paraphrases included). Of the passages reported in paraphrases, {from_copy} are "
        f"in the text paraphrased, where the rewording left a stretch nearly intact.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=50_000)
    parser.add_argument("--size", type=int, default=2_000, help="characters per source")
    parser.add_argument("--queries", type=int, default=200, help="timed queries")
    parser.add_argument("--cases", type=int, default=200, help="cases per kind for accuracy")
    parser.add_argument("--index-runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1950)
    parser.add_argument("--database-url")
    parser.add_argument("--keep", action="store_true", help="keep the generated library")
    args = parser.parse_args()

    folder = setup_django(args.database_url)
    from sources.reuse.models import ReuseFingerprint

    prose = Prose(random.Random(args.seed))
    library = make_library(f"Reuse benchmark {args.seed}")
    try:
        indexing = bench_indexing(library, args.index_runs)
        if not args.sources:  # --sources 0: the indexing measurement alone
            print(report(args, indexing, None, None, 0))
            return
        text_ids = fill_library(library, prose, args.sources, args.size)
        rows = ReuseFingerprint.objects.filter(library=library).count()
        queries = bench_queries(library, prose, text_ids, args.queries)
        accuracy = bench_accuracy(library, prose, text_ids, args.cases)
        print(report(args, indexing, queries, accuracy, rows))
    finally:
        if folder is not None and not args.keep:
            shutil.rmtree(folder)
        elif not args.keep:
            remove_library(library)


if __name__ == "__main__":
    main()
