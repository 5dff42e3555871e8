"""Research notes: quotations with footnote citations and a bibliography, for pandoc.

For a set of claims, an event, a search result or the annotations of some sources, the
document lists each quotation under its claim (or its source) with a pandoc citation
carrying the passage's locator (`[@roshchin1950record, p. 2]`). It is written as
Markdown, the researcher's own file to edit and run through pandoc: one file with the
bibliography in its YAML `references:`, or a zip with the Markdown, the bibliography as
CSL-JSON and BibLaTeX and the CSL style. HTML and DOCX are that Markdown rendered by
pandoc with `--citeproc`: real footnotes in Word, and the bibliography at the end.

Everything quoted or written by users is escaped for Markdown (pandoc reads YAML
metadata strings as Markdown too), except comments, which are Markdown; the rendering
reads Markdown without raw HTML or attributes and a Lua filter keeps only http(s),
mailto and in-page links, so an export cannot carry script.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import re
import subprocess
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

from django.utils.formats import date_format

from citations import engine, exports
from citations.passages import (
    Locator,
    claim_evidence,
    is_archival,
    load_texts,
    pandoc_citation,
    passage_locator,
)
from citations.selection import ExportRequestError, Selection

NOTES_CONTENT_TYPES = {
    "markdown": "text/markdown; charset=utf-8",
    "pandoc": "application/zip",
    "html": "text/html; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}
NOTES_EXTENSIONS = {"markdown": "md", "pandoc": "zip", "html": "html", "docx": "docx"}
NOTES_FORMAT_NAMES = {
    "markdown": "Markdown for pandoc, bibliography inside (.md)",
    "pandoc": "Markdown + CSL-JSON + BibLaTeX + style (.zip)",
    "html": "Web page with footnotes (.html)",
    "docx": "Word document with footnotes (.docx)",
}
MAX_QUOTES = 5_000
PANDOC_TIMEOUT = 600
STANCE_HEADINGS = {"supports": "Supports", "contradicts": "Contradicts", "mentions": "Mentions"}
# Markdown extensions a rendering reads without: raw HTML, LaTeX and attributes (events
# such as onclick) could reach the output; links are checked by SAFE_LINKS.
SAFE_READER = (
    "markdown-raw_html-raw_tex-raw_attribute-native_divs-native_spans-markdown_in_html_blocks"
    "-bracketed_spans-fenced_divs-link_attributes-header_attributes-fenced_code_attributes"
    "-inline_code_attributes"
)
SAFE_LINKS = """
local function safe(url)
  local lower = url:lower()
  return url:sub(1, 1) == "#" or lower:match("^https?://[^%s]") ~= nil
      or lower:match("^mailto:[^%s]") ~= nil
end
function Link(el) if not safe(el.target) then return el.content end return el end
function Image(el) return el.caption end
function RawInline(el) return {} end
function RawBlock(el) return {} end
"""
HTML_PAGE = """<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ max-width: 42rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.55;
  font-family: "Noto Serif", "Source Serif 4", Georgia, serif; }}
blockquote {{ margin: 1rem 0; padding-left: 1rem; border-left: 3px solid #bbb; }}
.csl-entry {{ padding-left: 2em; text-indent: -2em; margin-bottom: .5em; }}
.meta, footer {{ color: #555; font-size: .9em; }}
</style>
</head>
<body>
<header><h1>{title}</h1><p class="meta">{subtitle}</p></header>
<main>
{body}
</main>
<footer><p>Citations formatted with a <a href="https://citationstyles.org/">Citation Style
Language</a> style ({style}), licensed CC BY-SA 3.0.</p></footer>
</body>
</html>
"""


@dataclass
class Quotation:
    """One quoted passage with its citation and what the researcher wrote about it."""

    paragraphs: list[str]
    source_id: int
    locator: Locator
    comment: str = ""
    annotator: str = ""
    note: str = ""
    stance: str = ""


@dataclass
class Section:
    heading: str
    about: list[str] = field(default_factory=list)  # plain-text paragraphs under the heading
    quotations: list[Quotation] = field(default_factory=list)


@dataclass
class NotesDocument:
    title: str
    subtitle: str
    sections: list[Section]
    items: list[dict]
    keys: dict[int, str]  # source id → citation key in this document
    lang: str
    style: str


# --- Building --------------------------------------------------------------------------


def build_notes_document(
    user: Any,
    selection: Selection,
    *,
    style: str = engine.DEFAULT_STYLE,
    locale: str = engine.DEFAULT_LOCALE,
    today: dt.date | None = None,
) -> NotesDocument:
    """The notes of a selection: claims with their evidence for claims and events, the
    annotations of each source otherwise. Raises ValueError for an unknown style or
    locale and ExportRequestError when the selection holds too many quotations."""
    engine.resolve_style(style)
    lang = engine.resolve_locale(locale)
    if selection.kind in ("claims", "event"):
        sections = claim_sections(user, selection)
    elif selection.kind == "search":
        sections = search_sections(user, selection)
    else:
        sections = source_sections(user, selection)
    keys = selection.keys()
    for section in sections:  # only what the bibliography holds can be cited
        section.quotations = [q for q in section.quotations if q.source_id in keys]
    count = sum(len(section.quotations) for section in sections)
    day = date_format(today or dt.date.today(), "j F Y")
    subtitle = f"{count} quotation{'s' * (count != 1)} from {len(selection.sources)} "
    subtitle += f"source{'s' * (len(selection.sources) != 1)} · exported from Marginalia, {day}"
    return NotesDocument(
        title=f"Research notes: {selection.name}",
        subtitle=subtitle,
        sections=sections,
        items=selection.items,
        keys=keys,
        lang=lang,
        style=style,
    )


def _check_size(count: int) -> None:
    if count > MAX_QUOTES:
        raise ExportRequestError(
            "selection",
            f"The selection holds {count:,} quotations; notes take at most {MAX_QUOTES:,}. "
            "Choose fewer sources or claims.",
        )


def source_sections(user: Any, selection: Selection) -> list[Section]:
    """One section per source that has annotations the user may see, in text order."""
    annotations = annotations_of(user, selection)
    _check_size(len(annotations))
    return by_source(quotations_for(annotations), selection)


def claim_sections(user: Any, selection: Selection, claims: list[Any] | None = None):
    """One section per claim: its status and note, then its evidence, strongest first."""
    claims = selection.claims if claims is None else claims
    evidence = {claim.pk: claim_evidence(claim, user) for claim in claims}
    _check_size(sum(len(rows) for rows in evidence.values()))
    rows = [row for claim in claims for row in evidence[claim.pk]]
    quotations = iter(quotations_for([row.annotation for row in rows]))
    sections = []
    if selection.event is not None:
        sections.append(event_section(selection.event))
    for claim in claims:
        section = Section(claim.statement, about=claim_about(claim))
        for row in evidence[claim.pk]:
            quotation = next(quotations)
            quotation.stance, quotation.note = row.stance, row.note
            section.quotations.append(quotation)
        sections.append(section)
    return sections


def search_sections(user: Any, selection: Selection) -> list[Section]:
    """What a search found: the claims (with their evidence), then source by source the
    annotations and the passages of text, in the order the search ranked them."""
    from annotations.access import annotations_for
    from annotations.claims.models import Claim
    from search.models import SearchEntry

    hits = search_hits(user, selection.search)
    claim_ids = [h.claim_id for h in hits if h.kind == "claim"]
    found_claims = {c.pk: c for c in Claim.objects.visible_to(user).filter(pk__in=claim_ids)}
    claims = [found_claims[pk] for pk in claim_ids if pk in found_claims]
    annotation_ids = [h.annotation_id for h in hits if h.kind == "annotation"]
    annotations = {a.pk: a for a in annotations_for(user).filter(pk__in=annotation_ids)}
    passage_ids = [h.id for h in hits if h.kind == "passage"]
    passages = list(SearchEntry.objects.filter(pk__in=passage_ids, kind="passage"))
    _check_size(len(annotations) + len(passages) + len(claims))
    quoted = [annotations[pk] for pk in annotation_ids if pk in annotations]
    found = quotations_for(quoted) + passage_quotations(passages, selection.search)
    return claim_sections(user, selection, claims) + by_source(found, selection)


def search_hits(user: Any, query: Any) -> list[Any]:
    """Every hit of a search, page by page (at most MAX_QUOTES)."""
    from search.engine import search
    from search.query import MAX_LIMIT

    query = replace(query, limit=MAX_LIMIT, cursor="")
    hits: list[Any] = []
    while len(hits) <= MAX_QUOTES:
        result = search(user, query)
        hits += result.hits
        if not result.next_cursor:
            break
        query = query.with_cursor(result.next_cursor)
    return hits


def passage_quotations(entries: list[Any], query: Any) -> list[Quotation]:
    """The paragraphs of the text passages a search found that hold a matched word (the
    whole passage when the search has no words), each cited like a highlight."""
    from search.engine import Highlighter

    highlighter = Highlighter(query.text)
    texts = load_texts({entry.text_id for entry in entries})
    result = []
    for entry in entries:
        text = texts[entry.text_id]
        pieces = list(paragraph_pieces(entry.body, entry.start))
        matched = [piece for piece in pieces if highlighter.spans(piece[2])]
        for start, end, paragraph in matched or pieces:
            end = min(end, len(text.text))
            locator = passage_locator(text, start, end, archival=is_archival(text.source))
            result.append(Quotation([" ".join(paragraph.split())], text.source_id, locator))
    return result


def paragraph_pieces(body: str, offset: int) -> Iterator[tuple[int, int, str]]:
    """(start, end, paragraph) of each paragraph of `body`, which starts at `offset`."""
    for match in re.finditer(r"\S(?:.|\n(?!\s*\n))*", body):
        yield offset + match.start(), offset + match.end(), match[0]


def by_source(quotations: list[Quotation], selection: Selection) -> list[Section]:
    """A section per source, in the order of their first quotation."""
    titles = {source.pk: source.title for source in selection.sources}
    sections: dict[int, Section] = {}
    for quotation in quotations:
        if quotation.source_id in titles:  # a search caps its sources (EXPORT_LIMIT)
            section = sections.setdefault(quotation.source_id, Section(titles[quotation.source_id]))
            section.quotations.append(quotation)
    return list(sections.values())


def event_section(event: Any) -> Section:
    lines = [" · ".join(part for part in (event.date, event.place) if part)]
    return Section(event.name, about=[line for line in (*lines, event.description) if line])


def claim_about(claim: Any) -> list[str]:
    status = f"Status: {claim.get_status_display().lower()}"
    if claim.rank != "normal":
        status += f" ({claim.get_rank_display().lower()}"
        status += f": {claim.rank_reason})" if claim.rank_reason else ")"
    return [status, *[p for p in re.split(r"\n\s*\n", claim.note.strip()) if p]]


def annotations_of(user: Any, selection: Selection) -> list[Any]:
    """Visible annotations on the selection's sources, source by source, in text order."""
    from annotations.access import annotations_for

    order = {source.pk: n for n, source in enumerate(selection.sources)}
    found = (
        annotations_for(user)
        .filter(text__source__in=list(order))
        .order_by("text__source", "text__revision", "start", "end", "pk")
    )
    return sorted(found, key=lambda a: order[a.text.source_id])


def annotator_name(annotation: Any) -> str:
    user = annotation.creator
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def quotations_for(annotations: list[Any]) -> list[Quotation]:
    """A quotation per annotation, its locator from the revision it was made on."""
    texts = load_texts({a.text_id for a in annotations})
    result = []
    for annotation in annotations:
        text = texts[annotation.text_id]
        locator = passage_locator(
            text, annotation.start, annotation.end, archival=is_archival(text.source)
        )
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", annotation.exact)]
        result.append(
            Quotation(
                paragraphs=[p for p in paragraphs if p],
                source_id=text.source_id,
                locator=locator,
                comment=annotation.comment_raw.strip(),
                annotator=annotator_name(annotation),
            )
        )
    return result


# --- Markdown --------------------------------------------------------------------------

ALWAYS_ESCAPED = re.compile(r"([\\`*_{}\[\]<>$^~@|&])")
# What makes a paragraph a heading, quote, list item or definition in pandoc Markdown.
BLOCK_START = re.compile(r"^(?:[#>+=:%\-]|\(\w+\)|\d+[.)]|[A-Za-z]{1,4}[.)](?=\s|$))")


def md_escape(text: str) -> str:
    """Plain text as one paragraph of pandoc Markdown that reads back as this very text
    (white space collapsed): markup, citations (@), lists and headings are escaped."""
    text = ALWAYS_ESCAPED.sub(r"\\\1", " ".join(str(text).split())).replace("--", "-\\-")
    if not (match := BLOCK_START.match(text)):
        return text
    if match[0][0] in "#>+=:%-(":
        return "\\" + text
    cut = len(match[0]) - 1  # "1950." or "iv)": escape the punctuation after the marker
    return text[:cut] + "\\" + text[cut:]


def comment_markdown(comment: str) -> str:
    """A comment as written (Markdown), made unable to cite, head or number notes."""
    lines = []
    for line in comment.replace("\r\n", "\n").split("\n"):
        line = line.replace("@", "\\@").replace("[^", "[\\^")
        lines.append(re.sub(r"^(\s*)#", r"\1\\#", line))
    return "\n".join(lines).strip()


def escape_item(value: Any) -> Any:
    """A CSL item for YAML `references:` whose strings pandoc reads back unchanged."""
    if isinstance(value, dict):
        return {key: escape_item(v) for key, v in value.items() if key != "custom"}
    if isinstance(value, list):
        return [escape_item(v) for v in value]
    if isinstance(value, str):
        paragraphs = [md_escape(p) for p in re.split(r"\n\s*\n", value) if p.strip()]
        return "\n\n".join(paragraphs)
    return value


def notes_markdown(
    doc: NotesDocument, *, bibliography: str | None = None, csl: str | None = None
) -> str:
    """The Markdown file. With `bibliography` (a file name) the YAML points to it;
    otherwise the items are in `references:`. `csl` is the style file or URL."""
    meta: dict[str, Any] = {
        "title": md_escape(doc.title),
        "subtitle": md_escape(doc.subtitle),
        "lang": doc.lang,
        "csl": csl or style_url(doc.style),
        "link-citations": True,
        "reference-section-title": "Bibliography",
    }
    if bibliography:
        meta["bibliography"] = bibliography
    lines = [
        "---",
        *(f"{key}: {json.dumps(value, ensure_ascii=False)}" for key, value in meta.items()),
    ]
    if not bibliography:
        lines.append("references:")
        lines += [f"- {json.dumps(_reference(item), ensure_ascii=False)}" for item in doc.items]
    lines += ["---", ""]
    for section in doc.sections:
        lines += section_markdown(section, doc)
    return "\n".join(lines).rstrip("\n") + "\n"


def _reference(item: dict) -> dict:
    escaped = escape_item(exports.csl_export_item(item))
    escaped["id"] = exports.citation_key(item)  # never escaped: citations must match it
    return escaped


def section_markdown(section: Section, doc: NotesDocument) -> list[str]:
    lines = [f"# {md_escape(section.heading)}", ""]
    for paragraph in section.about:
        lines += [md_escape(paragraph), ""]
    stance = None
    for quotation in section.quotations:
        if quotation.stance and quotation.stance != stance:
            stance = quotation.stance
            lines += [f"## {STANCE_HEADINGS.get(stance, stance.title())}", ""]
        lines += quotation_markdown(quotation, doc)
    return lines


def quotation_markdown(quotation: Quotation, doc: NotesDocument) -> list[str]:
    cite = pandoc_citation(doc.keys[quotation.source_id], quotation.locator, lang=doc.lang)
    paragraphs = [md_escape(p) for p in quotation.paragraphs] or [""]
    paragraphs[-1] = f"{paragraphs[-1]} {cite}".strip()
    lines = []
    for n, paragraph in enumerate(paragraphs):
        lines += ([">"] if n else []) + [f"> {paragraph}"]
    lines.append("")
    if quotation.note:
        lines += [f"*Evidence:* {md_escape(quotation.note)}", ""]
    if quotation.comment:
        who = f" by {md_escape(quotation.annotator)}" if quotation.annotator else ""
        lines += [f"*Comment{who}:* {comment_markdown(quotation.comment)}", ""]
    return lines


@cache
def style_url(style: str) -> str:
    """The style's canonical URL (its `<link rel="self">`), which pandoc can fetch."""
    text = engine.resolve_style(style, dependent=True).read_text(encoding="utf-8")
    match = re.search(r'<link[^>]*href="([^"]+)"[^>]*rel="self"', text) or re.search(
        r"<id>([^<]+)</id>", text
    )
    return match[1] if match else f"https://www.zotero.org/styles/{style}"


# --- Files -----------------------------------------------------------------------------


def render_notes_document(doc: NotesDocument, fmt: str) -> bytes:
    """The document as a file: markdown, pandoc (zip), html or docx."""
    if fmt not in NOTES_CONTENT_TYPES:
        raise ValueError(f"Unknown format {fmt!r}. Accepted: {', '.join(NOTES_CONTENT_TYPES)}.")
    if fmt == "markdown":
        return notes_markdown(doc).encode("utf-8")
    if fmt == "pandoc":
        return pandoc_bundle(doc)
    return run_pandoc(doc, fmt)


def pandoc_bundle(doc: NotesDocument) -> bytes:
    """notes.md with references.json (CSL-JSON), references.bib (BibLaTeX), the style."""
    style_file = f"{doc.style}.csl"
    readme = (
        "Render with pandoc (https://pandoc.org), for example:\n\n"
        "    pandoc notes.md --citeproc -o notes.docx\n\n"
        "notes.md names references.json and the style file; references.bib holds the same\n"
        "entries for BibLaTeX (pandoc --bibliography references.bib, or biber).\n"
        "The style is from the Citation Style Language project (https://citationstyles.org/),\n"
        "licensed CC BY-SA 3.0.\n"
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        markdown = notes_markdown(doc, bibliography="references.json", csl=style_file)
        archive.writestr("notes.md", markdown)
        archive.writestr("references.json", exports.to_csl_json(doc.items))
        archive.writestr("references.bib", exports.to_biblatex(doc.items))
        archive.writestr(style_file, engine.resolve_style(doc.style).read_bytes())
        archive.writestr("README.txt", readme)
    return buffer.getvalue()


def run_pandoc(doc: NotesDocument, fmt: str) -> bytes:
    """The document as a web page or a Word file, through pandoc --citeproc."""
    data = pandoc_output(doc, "html5" if fmt == "html" else "docx")
    return html_page(doc, data.decode("utf-8")).encode("utf-8") if fmt == "html" else data


def notes_html_body(doc: NotesDocument) -> str:
    """The document as an HTML fragment (for a preview inside a page)."""
    return pandoc_output(doc, "html5").decode("utf-8")


def pandoc_output(doc: NotesDocument, writer: str) -> bytes:
    """pandoc --citeproc reading the Markdown without raw HTML or attributes, with a Lua
    filter that drops links other than http(s), mailto and in-page ones."""
    with tempfile.TemporaryDirectory(dir=engine._work_dir()) as folder:
        work = Path(folder)
        (work / "notes.md").write_text(notes_markdown(doc, bibliography="refs.json"), "utf-8")
        (work / "refs.json").write_text(exports.to_csl_json(doc.items), encoding="utf-8")
        output = work / "out"
        command = [engine.pandoc_path(), str(work / "notes.md"), "-f", SAFE_READER]
        command += [
            "-t",
            writer,
            "--wrap=none",
            "--citeproc",
            "--csl",
            str(engine.resolve_style(doc.style)),
        ]
        command += ["--bibliography", str(work / "refs.json"), "-M", f"lang={doc.lang}"]
        command += ["--lua-filter", str(_safe_links_filter()), "-o", str(output)]
        if writer == "html5":  # the page's title is the h1; sections and bibliography h2
            command.append("--shift-heading-level-by=1")
        result = subprocess.run(command, capture_output=True, text=True, timeout=PANDOC_TIMEOUT)
        if result.returncode != 0:
            raise RuntimeError(f"pandoc failed: {result.stderr.strip()[:2000]}")
        return output.read_bytes()


def html_page(doc: NotesDocument, body: str) -> str:
    return HTML_PAGE.format(
        lang=html.escape(doc.lang),
        title=html.escape(doc.title),
        subtitle=html.escape(doc.subtitle),
        style=html.escape(engine.style_title(doc.style)),
        body=body,
    )


@cache
def _safe_links_filter() -> Path:
    path = engine._work_dir() / "safe-links.lua"
    path.write_text(SAFE_LINKS, encoding="utf-8")
    return path


def notes_filename(selection: Selection, fmt: str, *, today: dt.date | None = None) -> str:
    """e.g. "notes-maos-visit-to-moscow-2024-05-01.docx"."""
    stem = exports.export_filename(f"notes {selection.name}", "text", today=today)
    return stem.rsplit(".", 1)[0] + "." + NOTES_EXTENSIONS[fmt]
