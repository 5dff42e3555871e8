"""Passage citations: a ready footnote for a highlighted passage, with its locator.

A passage is cited where the reader finds it in the original: the page of a paginated
text (the revision's page map), the folio of an archival file whose page map counts
leaves ("l. 2", "fol. 2v"), else the paragraph of the text we hold. The footnote itself
comes from `citations.engine` (pandoc's citeproc); this module only decides what the
locator is and batches the rendering, so that a claim with twenty quotes is one pandoc run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch

from citations import engine, exports
from sources.csl import source_to_csl
from sources.models import Source, SourceText
from sources.pages.models import Page

if TYPE_CHECKING:
    from annotations.models import Annotation

# How page maps label leaves and pages. "l."/"ll."/"л." are leaves (listy) only in
# archival files: in a printed book "l. 2" would be a line.
FOLIO_PREFIX = re.compile(r"^(?:fols?\.?|ff?\.|folios?)\s*(?P<value>\S.*)$", re.I)
LEAF_PREFIX = re.compile(r"^(?:ll?\.|лл?\.|listy?|листы?)\s*(?P<value>\S.*)$", re.I)
PAGE_PREFIX = re.compile(r"^(?:pp?\.|pages?|сс?\.|стр\.|s\.)\s*(?P<value>\S.*)$", re.I)
RECTO_VERSO = re.compile(r"^\d+\s?(?:[rv]|об\.?|ob\.?)$", re.I)
ARCHIVAL_TYPES = {"manuscript", "letter", "personal_communication"}
# A pandoc citation key that needs no braces (pandoc's own rule, slightly narrowed).
BARE_KEY = re.compile(r"[\w][\w:.#$%&+?<>~/-]*(?<![:.#$%&+?<>~/-])")


@dataclass(frozen=True)
class Locator:
    """Where a passage is: `value` "2–3" with `label` "page" (a CSL locator type)."""

    value: str
    label: str

    def __str__(self) -> str:
        return f"{self.label} {self.value}"


@dataclass(frozen=True)
class PassageCitation:
    """A ready footnote for one passage, in one style, locale and format."""

    full_note: str
    short_note: str
    quote: str
    locator: str
    label: str
    locator_text: str  # with the locale's term: "p. 2", "fol. 2v", "para. 3"
    citation_key: str
    pandoc: str  # the Markdown citation: [@roshchin1950record, p. 2]
    source_id: int
    annotation_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- Locators --------------------------------------------------------------------------


def is_archival(source: Source) -> bool:
    """An archival document: its page map may count leaves (folios) instead of pages."""
    archive_fields = (source.archive, source.archive_location, source.archive_collection)
    return any(archive_fields) or source.csl_type in ARCHIVAL_TYPES


def classify_page_label(label: str, *, archival: bool) -> Locator:
    """A page map label as a locator: "fol. 2v" → folio 2v, "p. 12" → page 12, "3" → page
    3; in an archival file "l. 2", "л. 2" and "2v"/"2об." are folios."""
    label = " ".join(str(label).split())
    if match := FOLIO_PREFIX.match(label):
        return Locator(match["value"], "folio")
    if archival and (match := LEAF_PREFIX.match(label)):
        return Locator(match["value"], "folio")
    if match := PAGE_PREFIX.match(label):
        return Locator(match["value"], "page")
    if archival and RECTO_VERSO.match(label):
        return Locator(label, "folio")
    return Locator(label, "page")


def passage_locator(text: SourceText, start: int, end: int, *, archival: bool) -> Locator:
    """The page(s) or folio(s) the passage [start, end) stands on, from the revision's
    page map; else the number of its paragraph(s) in the text ("paragraph 3–4")."""
    start, end = _trimmed(text.text, start, end)
    first, last = text.page_at(start), text.page_at(end - 1)
    if first is not None and last is not None:
        a = classify_page_label(first, archival=archival)
        b = classify_page_label(last, archival=archival)
        return Locator(_span(a.value, b.value), a.label)
    numbers = paragraph_numbers(text, start, end)
    return Locator(_span(str(numbers[0]), str(numbers[1])), "paragraph")


def paragraph_numbers(text: SourceText, start: int, end: int) -> tuple[int, int]:
    """1-based numbers of the paragraphs holding the first and last code point."""
    starts = [offset for offset, _ in text.paragraphs()] or [0]
    first = sum(1 for offset in starts if offset <= start) or 1
    last = sum(1 for offset in starts if offset <= max(start, end - 1)) or 1
    return first, last


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    """The passage without leading and trailing white space (a highlight that takes in
    the line break before the next page should not cite that page)."""
    passage = text[start:end]
    if not passage.strip():
        return start, max(end, start + 1)
    lead = len(passage) - len(passage.lstrip())
    trail = len(passage) - len(passage.rstrip())
    return start + lead, end - trail


def _span(first: str, last: str) -> str:
    return first if first == last else f"{first}–{last}"


# --- Rendering -------------------------------------------------------------------------


def quote_text(exact: str) -> str:
    """The quote as a note prints it: one line, white space collapsed."""
    return " ".join(exact.split())


def pandoc_citation(key: str, locator: Locator | None, *, lang: str) -> str:
    """The Markdown citation pandoc reads: `[@key, p. 2]`, with the locale's term."""
    cite = f"@{key}" if BARE_KEY.fullmatch(key) else "@{" + key.replace("}", "") + "}"
    if locator is None:
        return f"[{cite}]"
    term = engine.locator_terms(lang).get(locator.label, locator.label)
    value = locator.value.replace("{", "").replace("}", "").replace("]", "")
    return f"[{cite}, {term} {value}]"


def cite_annotation(
    annotation: Annotation,
    *,
    style: str = engine.DEFAULT_STYLE,
    locale: str = engine.DEFAULT_LOCALE,
    fmt: str = "html",
) -> PassageCitation:
    """The footnote (full and short) for one highlighted passage, with its quote."""
    return cite_annotations([annotation], style=style, locale=locale, fmt=fmt)[0]


def cite_annotations(
    annotations: Sequence[Annotation],
    *,
    style: str = engine.DEFAULT_STYLE,
    locale: str = engine.DEFAULT_LOCALE,
    fmt: str = "html",
) -> list[PassageCitation]:
    """Footnotes for many passages in one pandoc run, in the order given. Raises
    ValueError naming what is accepted for an unknown style, locale or format."""
    lang = engine.resolve_locale(locale)
    texts = load_texts({a.text_id for a in annotations})
    passages = [(a.pk, texts[a.text_id], a.start, a.end, a.exact) for a in annotations]
    return cite_passages(
        passages, style=style, locale=lang, fmt=fmt, pages=page_labels(annotations)
    )


def page_labels(annotations: Sequence[Annotation]) -> dict[int, str]:
    """The label of the page each region annotation is drawn on, by annotation id: a
    region is cited by its page ("p. 3", "fol. 2r"), as the page shows it."""
    wanted = {(a.text_id, a.page) for a in annotations if a.region is not None}
    if not wanted:
        return {}
    texts = {text for text, _ in wanted}
    labels = {
        (text, index): label
        for text, index, label in Page.objects.filter(text_id__in=texts).values_list(
            "text_id", "index", "label"
        )
        if (text, index) in wanted
    }
    return {
        a.pk: labels[(a.text_id, a.page)]
        for a in annotations
        if (a.text_id, a.page) in labels and a.region is not None
    }


def cite_passages(
    passages: Sequence[tuple[int | None, SourceText, int, int, str]],
    *,
    style: str = engine.DEFAULT_STYLE,
    locale: str = engine.DEFAULT_LOCALE,
    fmt: str = "html",
    pages: dict[int, str] | None = None,
) -> list[PassageCitation]:
    """Footnotes for (annotation id, text, start, end, quote) passages. The texts'
    sources should come with their creators prefetched (`load_texts` does it). `pages`:
    the page label of region annotations, by id (their locator is that page)."""
    lang = engine.resolve_locale(locale)
    items: dict[int, dict] = {}
    requests = []
    for annotation_id, text, start, end, exact in passages:
        source = text.source
        item = items.setdefault(source.pk, source_to_csl(source))
        if pages and annotation_id in pages:
            locator = classify_page_label(pages[annotation_id], archival=is_archival(source))
        else:
            locator = passage_locator(text, start, end, archival=is_archival(source))
        requests.append((annotation_id, source.pk, item, locator, exact))
    wanted = [engine.Citation(item, loc.value, loc.label) for _, _, item, loc, _ in requests]
    notes = engine.render_notes(wanted, style=style, locale=lang, fmt=fmt)
    terms = engine.locator_terms(lang)
    return [
        _passage_citation(request, note, terms, lang)
        for request, note in zip(requests, notes, strict=True)
    ]


def _passage_citation(request: tuple, note: tuple[str, str], terms: dict, lang: str):
    annotation_id, source_id, item, locator, exact = request
    key = exports.citation_key(item)
    return PassageCitation(
        full_note=note[0],
        short_note=note[1],
        quote=quote_text(exact),
        locator=locator.value,
        label=locator.label,
        locator_text=f"{terms.get(locator.label, locator.label)} {locator.value}",
        citation_key=key,
        pandoc=pandoc_citation(key, locator, lang=lang),
        source_id=source_id,
        annotation_id=annotation_id,
    )


def load_texts(text_ids: Iterable[int]) -> dict[int, SourceText]:
    """Revisions with their text and page map, and their sources with creators: the
    annotation querysets defer the text (it can be megabytes) and the citation needs it."""
    sources = Source.objects.select_related("library").prefetch_related("creators")
    texts = SourceText.objects.filter(pk__in=set(text_ids)).prefetch_related(
        Prefetch("source", queryset=sources)
    )
    return {text.pk: text for text in texts}


# --- Claims ----------------------------------------------------------------------------


def claim_evidence(claim: Any, user: Any) -> list[Any]:
    """The claim's evidence rows whose highlights `user` may see, strongest stance first
    (supports, contradicts, mentions), each with its annotation."""
    from annotations.claims.models import Evidence

    rows = Evidence.objects.visible_to(user).filter(claim=claim)
    rows = rows.select_related("annotation", "annotation__creator")
    order = {"supports": 0, "contradicts": 1, "mentions": 2}
    return sorted(rows, key=lambda row: (order.get(row.stance, 3), row.pk))


def cite_claim(
    claim: Any,
    user: Any,
    *,
    style: str = engine.DEFAULT_STYLE,
    locale: str = engine.DEFAULT_LOCALE,
    fmt: str = "html",
) -> list[tuple[Any, PassageCitation]]:
    """(evidence, passage citation) for each quote that backs or undermines a claim."""
    evidence = claim_evidence(claim, user)
    cited = cite_annotations(
        [row.annotation for row in evidence], style=style, locale=locale, fmt=fmt
    )
    return list(zip(evidence, cited, strict=True))
