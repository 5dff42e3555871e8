"""Generate a synthetic research corpus and load it into PostgreSQL with COPY, for bench/search.py.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/marginalia_bench \\
        .venv/bin/python bench/search_corpus.py [--sources 50000] [--annotations 1000000] \\
        [--claims 200000] [--seed 7]

Drops and recreates the database named in DATABASE_URL (it must not be the one you work
in), migrates it, then writes every table the search reads with psycopg 3's `cursor.copy`:
users, libraries and memberships, sources with creators and one text each, tags, events,
annotations (quotes cut from the texts, tags, comments), claims with tags, events and
evidence, and the search index itself (built with the same functions as the signals:
`search_text.terms`, `search_index.passages` and the facet tokens). The GIN indexes are
dropped during the load and built afterwards.

Realism: 120 libraries whose sizes fall off like Zipf's law (the largest holds about a
fifth of everything), sources 55 % English, 30 % Russian, 15 % Chinese (bench/corpus.py's
sentences: frequent function words, names, Cyrillic stress marks, rare CJK), tags in
namespaces (person:, place:, theme:, claim-type:) used with Zipf frequencies, events
nested in a few long ones, dates 1945–1975. The benchmark user `historian` is a member of
the largest library and of two middling ones; another user holds the rest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

LIBRARIES = 120
USERS = 40
NAMESPACES = {"person": 220, "place": 120, "theme": 60, "claim-type": 12, "": 80}
THEMES = ["face", "recognition", "war crimes", "aid", "railway", "border", "ideology", "trade"]
ARCHIVES = [
    "Archive of Foreign Policy of the Russian Federation (AVPRF)",
    "Archive of the President of the Russian Federation (APRF)",
    "Russian State Archive of Contemporary History (RGANI)",
    "Chinese Foreign Ministry Archive",
    "National Archives and Records Administration",
    "Wilson Center Digital Archive",
] + [f"Regional archive no. {n}" for n in range(1, 25)]
FAMILIES = [
    "Roshchin",
    "Kovalev",
    "Fedorenko",
    "Yudin",
    "Chervonenko",
    "Shi Zhe",
    "Westad",
    "Radchenko",
    "Chen Jian",
    "Shen Zhihua",
    "Zubok",
    "Lüthi",
    "Goncharov",
    "Heinzig",
]
TYPES = [
    ("manuscript", 40),
    ("letter", 10),
    ("report", 8),
    ("article-newspaper", 12),
    ("article-magazine", 8),
    ("article-journal", 10),
    ("book", 6),
    ("chapter", 6),
]
STATUSES = [("asserted", 60), ("corroborated", 20), ("disputed", 15), ("refuted", 5)]


def zipf(n: int, s: float = 1.0) -> list[float]:
    return list(accumulate(1.0 / (rank + 1) ** s for rank in range(n)))


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()


def recreate_database(url: str) -> None:
    import psycopg

    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if name in {"", "postgres", "marginalia", "template1"}:
        raise SystemExit(f"Refusing to drop database {name!r}: name a benchmark database.")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')


class Loader:
    """Rows for one table: every concrete column, Django's defaults where not given."""

    def __init__(self, model) -> None:
        from django.utils import timezone

        self.model = model
        self.table = model._meta.db_table
        self.fields = model._meta.concrete_fields
        self.columns = [f.column for f in self.fields]
        now = timezone.now()
        self.defaults = {f.column: self._default(f, now) for f in self.fields}
        self.rows: list[tuple] = []
        self.next_id = 0

    @staticmethod
    def _default(field, now):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return now
        if field.has_default():
            value = field.get_default()
            return json.dumps(value) if isinstance(value, dict | list) else value
        if field.null:
            return None
        if field.get_internal_type() in {"CharField", "TextField", "SlugField", "URLField"}:
            return ""
        return None

    def add(self, **values) -> None:
        if "id" not in values:
            self.next_id += 1
            values["id"] = self.next_id
        self.rows.append(tuple(values.get(c, self.defaults[c]) for c in self.columns))

    def copy(self, conn) -> int:
        columns = ", ".join(f'"{c}"' for c in self.columns)
        with (
            conn.cursor() as cursor,
            cursor.copy(f"COPY {self.table} ({columns}) FROM STDIN") as copy,
        ):
            for row in self.rows:
                copy.write_row(row)
        count = len(self.rows)
        self.rows = []
        return count


def day(rng: random.Random, start: int = 1945, end: int = 1975) -> dt.date:
    return dt.date(start, 1, 1) + dt.timedelta(days=rng.randrange((end - start + 1) * 365))


class Corpus:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.rng = random.Random(args.seed)
        self.library_weights = zipf(LIBRARIES, 0.9)
        self.sentence_terms: dict[str, str] = {}

    # --- people and libraries ---------------------------------------------------------

    def people(self, loaders: dict) -> None:
        from django.contrib.auth.hashers import make_password

        password = make_password("bench-marginalia")
        for pk in range(1, USERS + 1):
            name = "historian" if pk == 1 else f"user{pk}"
            loaders["user"].add(
                id=pk,
                username=name,
                password=password,
                email=f"{name}@example.org",
                is_active=True,
                first_name="",
                last_name="",
            )
        for pk in range(1, LIBRARIES + 1):
            loaders["library"].add(id=pk, name=f"Library {pk}", slug=f"library-{pk}")
            owner = 2 + pk % (USERS - 1)
            loaders["membership"].add(id=pk, library_id=pk, user_id=owner, role="owner")
        for n, library in enumerate((1, 7, 15)):  # historian: the largest and two middling
            loaders["membership"].add(
                id=LIBRARIES + 1 + n, library_id=library, user_id=1, role="editor"
            )

    def library(self) -> int:
        return self.rng.choices(range(1, LIBRARIES + 1), cum_weights=self.library_weights)[0]

    # --- tags and events --------------------------------------------------------------

    def vocabulary(self, loaders: dict) -> None:
        from bench.corpus import NAMES

        self.tags: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        pk = 0
        for library in range(1, LIBRARIES + 1):
            for namespace, n in NAMESPACES.items():
                size = max(3, n * (8 if library <= 15 else 1) // 8)
                for i in range(size):
                    label = self._tag_label(namespace, i, NAMES)
                    name = f"{namespace}:{label}" if namespace else label
                    pk += 1
                    loaders["tag"].add(
                        id=pk,
                        library_id=library,
                        name=name,
                        name_key=name.casefold(),
                        namespace=namespace,
                    )
                    self.tags[library].append((pk, name, namespace))
        self.tag_weights = {lib: zipf(len(tags), 1.1) for lib, tags in self.tags.items()}
        self.events: dict[int, list[tuple[int, str, dt.date, dt.date]]] = defaultdict(list)
        pk = 0
        for library in range(1, LIBRARIES + 1):
            parent = None
            for i in range(40 if library <= 15 else 8):
                start = day(self.rng)
                end = start + dt.timedelta(days=self.rng.choice([0, 0, 3, 30, 60, 400]))
                pk += 1
                name = f"Event {i} of library {library}" if i else "Sino-Soviet treaty negotiations"
                date = start.isoformat() if end == start else f"{start}/{end}"
                loaders["event"].add(
                    id=pk,
                    library_id=library,
                    name=name,
                    date=date,
                    earliest=start,
                    latest=end,
                    parent_id=parent if i % 5 else None,
                    creator_id=1,
                )
                parent = pk if i % 5 == 0 else parent
                self.events[library].append((pk, name, start, end))

    def _tag_label(self, namespace: str, i: int, names: list[str]) -> str:
        if namespace == "person":
            return names[i % len(names)] + ("" if i < len(names) else f" ({i})")
        if namespace == "theme":
            return THEMES[i % len(THEMES)] + ("" if i < len(THEMES) else f" {i}")
        if namespace == "place":
            return ["Moscow", "Beijing", "Москва", "北京", "Manchuria", "Port Arthur"][i % 6] + (
                "" if i < 6 else f" {i}"
            )
        return f"note {i}: drafts" if namespace == "" else f"type {i}"

    def some_tags(self, library: int, k: int) -> list[tuple[int, str, str]]:
        chosen = self.rng.choices(self.tags[library], cum_weights=self.tag_weights[library], k=k)
        return list({t[0]: t for t in chosen}.values())

    # --- sources and texts ------------------------------------------------------------

    def sentence(self, language: str) -> str:
        from bench.corpus import chinese_sentence, english_sentence, russian_sentence

        make = {"en": english_sentence, "ru": russian_sentence, "zh": chinese_sentence}[language]
        return make(self.rng)

    def terms_of(self, sentence: str) -> str:
        from search.text import terms

        found = self.sentence_terms.get(sentence)
        if found is None:
            found = self.sentence_terms[sentence] = terms(sentence)
        return found

    def sources(self, loaders: dict, entries: Loader) -> None:
        from search import index

        self.by_source: list[tuple] = [None]  # pk → (library, text, sentences, facts)
        for pk in range(1, self.args.sources + 1):
            library = self.library()
            language = self.rng.choices(["en", "ru", "zh"], weights=[55, 30, 15])[0]
            kind = "primary" if self.rng.random() < 0.6 else "secondary"
            csl_type = self.rng.choices([t for t, _ in TYPES], weights=[w for _, w in TYPES])[0]
            issued = day(self.rng)
            archive = self.rng.choice(ARCHIVES) if kind == "primary" else ""
            family = self.rng.choice(FAMILIES)
            title = self.sentence(language)[:180]
            loaders["source"].add(
                id=pk,
                library_id=library,
                citation_key=f"src{pk}",
                csl_type=csl_type,
                kind=kind,
                title=title,
                issued=issued.isoformat(),
                issued_earliest=issued,
                issued_latest=issued,
                archive=archive,
                language=language,
                created_by_id=1,
            )
            loaders["creator"].add(id=pk, source_id=pk, role="author", family=family)
            sentences, text = self._text(language)
            loaders["text"].add(
                id=pk,
                source_id=pk,
                revision=1,
                text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
            )
            facets = [
                index.source_token(pk),
                index.kind_token(kind),
                index.type_token(csl_type),
                index.language_token(language),
                *index.creator_tokens(family),
            ]
            if archive:
                facets.append(index.archive_token(archive))
            facts = (library, issued, title, sorted(facets))
            self.by_source.append((library, text, sentences, facts))
            self._source_entries(entries, pk, facts, family, archive, text)

    def _text(self, language: str) -> tuple[list[tuple[int, str]], str]:
        sentences, parts, offset = [], [], 0
        for _paragraph in range(self.rng.randint(2, 5)):
            for _ in range(self.rng.randint(3, 7)):
                sentence = self.sentence(language)
                sentences.append((offset, sentence))
                parts.append(sentence)
                offset += len(sentence) + 1
            parts[-1] += "\n"
            offset += 1
        return sentences, " ".join(parts).replace("\n ", "\n\n")[:-1]

    def _source_entries(
        self, entries: Loader, pk: int, facts: tuple, family: str, archive: str, text: str
    ) -> None:
        from search import index
        from search.text import terms

        library, issued, title, facets = facts
        common = {
            "library_id": library,
            "source_id": pk,
            "date_earliest": issued,
            "date_latest": issued,
            "year": issued.year,
            "title": title,
            "facets": json.dumps(facets),
            "stems": "",
        }
        entries.add(
            key=f"s:{pk}",
            kind="source",
            creator_id=1,
            body=family,
            terms=terms(title, family, archive),
            **common,
        )
        for number, (start, piece) in enumerate(index.passages(text)):
            entries.add(
                key=f"p:{pk}:{number}",
                kind="passage",
                text_id=pk,
                start=start,
                body=piece,
                terms=terms(piece),
                **common,
            )

    # --- annotations and claims -------------------------------------------------------

    def annotations(self, loaders: dict, entries: Loader) -> None:
        from bench.corpus import english_sentence
        from search import index

        comments = [english_sentence(self.rng) for _ in range(3000)]
        self.annotations_of: dict[int, list[int]] = defaultdict(list)  # library → annotations
        self.annotation_source: list[int] = [0]
        through = 0
        for pk in range(1, self.args.annotations + 1):
            source = self.rng.randrange(1, self.args.sources + 1)
            library, text, sentences, facts = self.by_source[source]
            start, exact = self.rng.choice(sentences)
            comment = self.rng.choice(comments) if self.rng.random() < 0.5 else ""
            tags = self.some_tags(library, self.rng.choice([0, 1, 1, 2, 2, 3, 4]))
            creator = (
                1
                if library in (1, 7, 15) and self.rng.random() < 0.3
                else 2 + library % (USERS - 1)
            )
            private = self.rng.random() < 0.05
            loaders["annotation"].add(
                id=pk,
                library_id=library,
                text_id=source,
                start=start,
                end=start + len(exact),
                exact=exact,
                comment_raw=comment,
                comment_html=f"<p>{comment}</p>" if comment else "",
                motivation="commenting" if comment else "highlighting",
                visibility="private" if private else "library",
                creator_id=creator,
            )
            for tag in tags:
                through += 1
                loaders["annotation_tags"].add(id=through, annotation_id=pk, tag_id=tag[0])
            self.annotations_of[library].append(pk)
            self.annotation_source.append(source)
            facets = facts[3] + [index.tag_token(t[0]) for t in tags]
            facets += [index.namespace_token(t[2]) for t in tags if t[2]]
            words = [self.terms_of(exact), self.terms_of(comment) if comment else ""]
            words += [self.terms_of(t[1]) for t in tags]
            entries.add(
                key=f"a:{pk}",
                kind="annotation",
                library_id=library,
                source_id=source,
                text_id=source,
                annotation_id=pk,
                start=start,
                creator_id=creator,
                private=private,
                date_earliest=facts[1],
                date_latest=facts[1],
                year=facts[1].year,
                title=facts[2],
                body=exact,
                note=comment,
                terms=" ".join(filter(None, words)),
                stems="",
                facets=json.dumps(sorted(set(facets))),
            )

    def claims(self, loaders: dict, entries: Loader) -> None:
        from bench.corpus import english_sentence
        from search import index

        through = evidence_pk = link_pk = 0
        for pk in range(1, self.args.claims + 1):
            library = self.library()
            statement = english_sentence(self.rng)
            status = self.rng.choices([s for s, _ in STATUSES], weights=[w for _, w in STATUSES])[0]
            tags = self.some_tags(library, self.rng.choice([0, 1, 1, 2, 3]))
            events = self.rng.sample(self.events[library], self.rng.choice([1, 1, 2]))
            creator = 2 + library % (USERS - 1)
            loaders["claim"].add(
                id=pk, library_id=library, statement=statement, status=status, creator_id=creator
            )
            for tag in tags:
                through += 1
                loaders["claim_tags"].add(id=through, claim_id=pk, tag_id=tag[0])
            for event in events:
                link_pk += 1
                loaders["claim_event"].add(
                    id=link_pk, library_id=library, claim_id=pk, event_id=event[0], relation="about"
                )
            facets = [index.tag_token(t[0]) for t in tags] + [
                index.event_token(e[0]) for e in events
            ]
            facets += [index.namespace_token(t[2]) for t in tags if t[2]]
            pool = self.annotations_of.get(library) or []
            for annotation in self.rng.sample(pool, min(len(pool), self.rng.choice([1, 1, 2, 3]))):
                evidence_pk += 1
                loaders["evidence"].add(
                    id=evidence_pk,
                    library_id=library,
                    claim_id=pk,
                    annotation_id=annotation,
                    stance="supports",
                    creator_id=creator,
                )
                facets += self.by_source[self.annotation_source[annotation]][3][3]
            earliest = min(e[2] for e in events)
            latest = max(e[3] for e in events)
            words = [
                self.terms_of(statement),
                *(self.terms_of(t[1]) for t in tags),
                *(self.terms_of(e[1]) for e in events),
            ]
            entries.add(
                key=f"c:{pk}",
                kind="claim",
                library_id=library,
                claim_id=pk,
                creator_id=creator,
                status=status,
                date_earliest=earliest,
                date_latest=latest,
                year=earliest.year,
                title="; ".join(e[1] for e in events),
                body=statement,
                terms=" ".join(words),
                stems="",
                facets=json.dumps(sorted(set(facets))),
            )


TABLE = "annotations_searchentry"
GIN = "USING gin (library_id, kind, {})"
INDEXES = {
    # As migration search 0004 defines it: lexemes keyed by library, and the id block that
    # lets a window skip (search.postgres).
    "search_scoped_document": f"CREATE INDEX search_scoped_document ON {TABLE} USING gin"
    " (search_scoped(library_id, document), kind, status, (id / 16384)) WITH (fastupdate = off)",
    "search_facets": f"CREATE INDEX search_facets ON {TABLE} {GIN.format('facets')}"
    " WITH (fastupdate = off)",
}


def load(url: str, args: argparse.Namespace) -> None:
    import psycopg
    from django.apps import apps
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    model = apps.get_model
    loaders = {
        "user": Loader(model("auth", "User")),
        "library": Loader(model("sources", "Library")),
        "membership": Loader(model("sources", "Membership")),
        "source": Loader(model("sources", "Source")),
        "creator": Loader(model("sources", "Creator")),
        "text": Loader(model("sources", "SourceText")),
        "tag": Loader(model("annotations", "Tag")),
        "event": Loader(model("annotations", "Event")),
        "annotation": Loader(model("annotations", "Annotation")),
        "annotation_tags": Loader(model("annotations", "Annotation").tags.through),
        "claim": Loader(model("annotations", "Claim")),
        "claim_tags": Loader(model("annotations", "Claim").tags.through),
        "claim_event": Loader(model("annotations", "ClaimEvent")),
        "evidence": Loader(model("annotations", "Evidence")),
    }
    entries = Loader(model("search", "SearchEntry"))
    corpus = Corpus(args)
    timings = {}
    started = time.monotonic()
    corpus.people(loaders)
    corpus.vocabulary(loaders)
    corpus.sources(loaders, entries)
    corpus.annotations(loaders, entries)
    corpus.claims(loaders, entries)
    timings["generate"] = time.monotonic() - started
    print(f"generated in {timings['generate']:.0f} s; loading…", flush=True)
    with psycopg.connect(url, autocommit=True) as conn:
        for name in INDEXES:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
        conn.execute("SET session_replication_role = replica")  # no FK triggers while loading
        started = time.monotonic()
        for name, loader in [*loaders.items(), ("search entries", entries)]:
            print(f"  {name}: {loader.copy(conn):,} rows", flush=True)
        timings["copy"] = time.monotonic() - started
        conn.execute("SET session_replication_role = origin")
        started = time.monotonic()
        for sql in INDEXES.values():
            conn.execute(sql)
        conn.execute("""INSERT INTO annotations_searchword (library_id, word)
                        SELECT DISTINCT e.library_id, w FROM annotations_searchentry e,
                               regexp_split_to_table(e.terms, ' ') w
                         WHERE e.kind <> 'passage' AND length(w) BETWEEN 3 AND 40
                           AND w ~ '^[[:alpha:]]' AND w !~ '^[一-鿿]'""")
        # The lexicon (search migration 0002): its triggers did not fire while loading.
        conn.execute("""INSERT INTO search_lexeme (lexeme)
                        SELECT DISTINCT unnest(tsvector_to_array(document))
                          FROM annotations_searchentry
                        ON CONFLICT DO NOTHING""")
        timings["index"] = time.monotonic() - started
        for table in ["auth_user", *(loader.table for loader in loaders.values()), entries.table]:
            conn.execute(f"""SELECT setval(pg_get_serial_sequence('{table}', 'id'),
                                           (SELECT coalesce(max(id), 1) FROM {table}))""")
        conn.execute("VACUUM ANALYZE")
    print(json.dumps({k: round(v, 1) for k, v in timings.items()}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=50_000)
    parser.add_argument("--annotations", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("Set DATABASE_URL to a PostgreSQL benchmark database (it is dropped).")
    recreate_database(url)
    setup_django(url)
    load(url, args)


if __name__ == "__main__":
    main()
