"""Export writers: CSL-JSON, BibLaTeX, BibTeX, RIS and formatted bibliographies or notes.

Every writer takes CSL-JSON items (as `sources.csl.source_to_csl` writes them) and returns
text. The BibLaTeX, BibTeX and RIS writers are ours because pandoc's and Zotero's drop the
archive, the archive location, the translator and uncertain dates; docs/exports.md has the
field mapping. Citation keys are the items' own (`citation-key`, else `id`), so a
manuscript citing `[@roshchin1950record]` keeps working after every export.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from django.utils.text import slugify

from citations import engine
from core.dates import SIMPLE_DATE

if TYPE_CHECKING:
    from sources.models import Source

CONTENT_TYPES = {
    "csl-json": "application/vnd.citationstyles.csl+json; charset=utf-8",
    "biblatex": "application/x-bibtex; charset=utf-8",
    "bibtex": "application/x-bibtex; charset=utf-8",
    "ris": "application/x-research-info-systems; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "text": "text/plain; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
}
EXTENSIONS = {
    "csl-json": "json",
    "biblatex": "bib",
    "bibtex": "bib",
    "ris": "ris",
    "html": "html",
    "text": "txt",
    "markdown": "md",
}
FORMATTED = ("html", "text", "markdown")
CONTENTS = ("bibliography", "notes")
ATTRIBUTION = (
    "Formatted with a Citation Style Language style (https://citationstyles.org/), "
    "licensed CC BY-SA 3.0."
)


# --- Entry points ----------------------------------------------------------------------


def export_items(
    items: Sequence[dict],
    fmt: str,
    *,
    style: str = engine.DEFAULT_STYLE,
    locale: str = engine.DEFAULT_LOCALE,
    content: str = "bibliography",
    title: str = "Bibliography",
) -> str:
    """The export file's text. Raises ValueError naming what is accepted for an unknown
    format, content, style or locale."""
    if fmt not in CONTENT_TYPES:
        raise ValueError(f"Unknown export format {fmt!r}. Accepted: {', '.join(CONTENT_TYPES)}.")
    if fmt not in FORMATTED:
        return WRITERS[fmt](items)
    if content not in CONTENTS:
        raise ValueError(f"Unknown content {content!r}. Accepted: {', '.join(CONTENTS)}.")
    if content == "notes":
        notes = engine.render_notes(
            [engine.Citation(item) for item in items], style=style, locale=locale, fmt=fmt
        )
        entries = [full for full, _ in notes]
    else:
        entries = engine.render_bibliography(items, style=style, locale=locale, fmt=fmt)
    return formatted_document(entries, fmt, title=title, numbered=content == "notes")


def export_sources(sources: Iterable[Source], fmt: str, **options: Any) -> str:
    """`export_items` for model instances (prefetch `creators` for large selections)."""
    from sources.csl import source_to_csl

    return export_items([source_to_csl(source) for source in sources], fmt, **options)


def export_filename(selection_name: str, fmt: str, *, today: dt.date | None = None) -> str:
    """e.g. "sino-soviet-relations-2024-05-01.bib": ASCII, safe in a Content-Disposition."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"Unknown export format {fmt!r}. Accepted: {', '.join(EXTENSIONS)}.")
    stem = slugify(_ascii(selection_name))[:80].strip("-") or "marginalia-export"
    return f"{stem}-{(today or dt.date.today()).isoformat()}.{EXTENSIONS[fmt]}"


def formatted_document(entries: Sequence[str], fmt: str, *, title: str, numbered: bool) -> str:
    """Rendered entries as one file: an HTML page, Markdown or plain text."""
    if fmt == "html":
        tag = "ol" if numbered else "div"
        inner = "li" if numbered else "div"
        body = "\n".join(f'  <{inner} class="csl-entry">{entry}</{inner}>' for entry in entries)
        return (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
            f'<h1>{html.escape(title)}</h1>\n<{tag} class="csl-bib-body">\n{body}\n</{tag}>\n'
            f"<p><small>{html.escape(ATTRIBUTION)}</small></p>\n</body>\n</html>\n"
        )
    lines = [f"{n}. {entry}" if numbered else entry for n, entry in enumerate(entries, 1)]
    heading = f"# {title}" if fmt == "markdown" else title
    return heading + "\n\n" + "\n\n".join(lines) + "\n"


# --- CSL-JSON --------------------------------------------------------------------------

# CSL 1.0.2 item variables, from the schema we ship; anything else moves under "custom".
CSL_SCHEMA = json.loads((engine.STYLES_DIR / "csl-data.json").read_text(encoding="utf-8"))
CSL_VARIABLES = frozenset(CSL_SCHEMA["items"]["properties"])


def csl_export_item(item: dict) -> dict:
    """The item as the CSL schema allows it: a CSL type (our "letter" is CSL's
    personal_communication, the original kept as custom.type) and unknown keys under
    `custom`."""
    result = {key: value for key, value in item.items() if key in CSL_VARIABLES}
    extra = {key: value for key, value in item.items() if key not in CSL_VARIABLES}
    csl_type = engine.csl_type(item.get("type"))
    if csl_type != item.get("type"):
        extra["type"] = item.get("type")
    result["type"] = csl_type
    if extra:
        result["custom"] = dict(item.get("custom") or {}) | extra
    return result


def to_csl_json(items: Sequence[dict]) -> str:
    """A CSL-JSON array (pandoc, Zotero and citeproc-js read it)."""
    data = [csl_export_item(item) for item in items]
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --- Shared helpers --------------------------------------------------------------------


def citation_key(item: dict) -> str:
    """The stable key, with the characters BibTeX cannot have in a key removed."""
    key = str(item.get("citation-key") or item.get("id") or "item")
    return re.sub(r"[\s,{}()\"'#%~\\=]", "", key) or "item"


def _ascii(text: str) -> str:
    from sources.citekeys import CYRILLIC

    return "".join(CYRILLIC.get(ch, ch) for ch in text.lower()).replace("_", "")


def edtf_of(item: dict, variable: str = "issued") -> str:
    """The EDTF string of a date: ours (custom.edtf) when present, else built from the CSL
    date (date-parts, circa, two ends for a range; `raw` and `literal` as written)."""
    custom = item.get("custom") or {}
    if isinstance(custom.get("edtf"), dict) and custom["edtf"].get(variable):
        return str(custom["edtf"][variable])
    date = item.get(variable)
    if isinstance(date, str):
        return date
    if not isinstance(date, dict):
        return ""
    ends = ["-".join(_two(p, n) for n, p in enumerate(parts[:3])) for parts in _parts(date)]
    ends = [end + ("?" if date.get("circa") else "") for end in ends if end]
    if ends:
        return "/".join(ends)
    return str(date.get("raw") or date.get("literal") or "")


def _parts(date: dict) -> list[list]:
    parts = date.get("date-parts")
    return [p for p in parts if isinstance(p, list) and p] if isinstance(parts, list) else []


def _two(part: Any, position: int) -> str:
    text = str(part).strip()
    return text.zfill(2) if position and text.isdigit() else text


def _year(edtf: str) -> str:
    match = re.match(r"\d{4}", edtf)
    return match[0] if match else ""


def name_list(item: dict, variable: str) -> list[dict]:
    names = item.get(variable)
    return [n for n in names if isinstance(n, dict)] if isinstance(names, list) else []


# --- BibLaTeX and BibTeX ---------------------------------------------------------------

LATEX_SPECIALS = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
LATEX_PATTERN = re.compile("|".join(re.escape(ch) for ch in LATEX_SPECIALS))

# BCP 47 language → babel/polyglossia name for `langid` and `origlanguage`.
BABEL = {
    "en": "english",
    "en-US": "american",
    "en-GB": "british",
    "ru": "russian",
    "uk": "ukrainian",
    "be": "belarusian",
    "zh": "chinese",
    "de": "ngerman",
    "fr": "french",
    "es": "spanish",
    "it": "italian",
    "pl": "polish",
    "cs": "czech",
    "sk": "slovak",
    "bg": "bulgarian",
    "sr": "serbian",
    "hr": "croatian",
    "sl": "slovenian",
    "hu": "magyar",
    "ro": "romanian",
    "sq": "albanian",
    "el": "greek",
    "tr": "turkish",
    "ja": "japanese",
    "ko": "korean",
    "vi": "vietnamese",
    "mn": "mongolian",
    "pt": "portuguese",
    "pt-BR": "brazil",
    "nl": "dutch",
    "sv": "swedish",
    "da": "danish",
    "no": "norsk",
    "nb": "norsk",
    "fi": "finnish",
    "et": "estonian",
    "lv": "latvian",
    "lt": "lithuanian",
    "ka": "georgian",
    "hy": "armenian",
    "ar": "arabic",
    "he": "hebrew",
    "fa": "farsi",
    "hi": "hindi",
    "la": "latin",
}

BIBLATEX_TYPES = {
    "manuscript": "unpublished",
    "letter": "letter",
    "personal_communication": "letter",
    "article-journal": "article",
    "article-magazine": "article",
    "article-newspaper": "article",
    "article": "article",
    "webpage": "online",
    "post": "online",
    "post-weblog": "online",
    "book": "book",
    "chapter": "incollection",
    "report": "report",
    "thesis": "thesis",
    "interview": "misc",
    "speech": "misc",
    "map": "misc",
    "treaty": "legal",
    "legislation": "legislation",
    "entry-encyclopedia": "inreference",
    "entry-dictionary": "inreference",
    "pamphlet": "booklet",
    "paper-conference": "inproceedings",
    "dataset": "dataset",
    "software": "software",
}
# Classic BibTeX knows only its thirteen types.
BIBTEX_TYPES = BIBLATEX_TYPES | {
    "letter": "misc",
    "personal_communication": "misc",
    "webpage": "misc",
    "post": "misc",
    "post-weblog": "misc",
    "report": "techreport",
    "thesis": "phdthesis",
    "treaty": "misc",
    "legislation": "misc",
    "entry-encyclopedia": "incollection",
    "entry-dictionary": "incollection",
    "dataset": "misc",
    "software": "misc",
}
SUBTYPES = {
    "article-magazine": "magazine",
    "article-newspaper": "newspaper",
    "interview": "interview",
    "speech": "speech",
    "map": "map",
}
# Name variables: BibLaTeX field, and the editor-type role where BibLaTeX has no field.
NAME_FIELDS = (
    ("author", "author", None),
    ("editor", "editor", None),
    ("translator", "translator", None),
    ("recipient", "recipient", None),
    ("container-author", "bookauthor", None),
    ("interviewer", "editora", "interviewer"),
    ("contributor", "editorb", "collaborator"),
    ("collection-editor", "editorc", "serieseditor"),
)
PLAIN_FIELDS = (
    ("edition", "edition"),
    ("volume", "volume"),
    ("page", "pages"),
    ("publisher", "publisher"),
    ("genre", "type"),
    ("medium", "howpublished"),
    ("archive", "archive"),
    ("archive_location", "archive_location"),
    ("archive_collection", "archive_collection"),
    ("archive-place", "archive_place"),
    ("call-number", "callnumber"),
    ("ISBN", "isbn"),
    ("ISSN", "issn"),
    ("abstract", "abstract"),
    ("note", "note"),
)


def latex_escape(text: str) -> str:
    """Plain text for a BibTeX value: LaTeX specials escaped, line breaks kept as
    paragraphs (a blank line) and every other run of white space made one space."""
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", str(text))]
    escaped = [LATEX_PATTERN.sub(lambda m: LATEX_SPECIALS[m[0]], p) for p in paragraphs if p]
    return "\n\n".join(escaped)


def latex_title(text: str) -> str:
    """A title with every capitalised word in braces: pandoc and BibTeX styles lower-case
    unprotected words ("Letter from khrushchev to mao"); our titles are as written."""
    words = " ".join(str(text).split()).split(" ")
    return " ".join(
        "{" + latex_escape(word) + "}" if any(ch.isupper() for ch in word) else latex_escape(word)
        for word in words
    )


def _verbatim(text: str) -> str:
    """URLs and DOIs are read verbatim; only braces and white space would break the entry."""
    return re.sub(r"[{}\s]", lambda m: f"%{ord(m[0]):02X}", str(text).strip())


def bib_name(name: dict) -> str:
    """ "Family, Given" (particles in front of the family name, "Jr." after it); an
    institution in double braces so that no tool splits "Ministry of Foreign Affairs"."""
    if literal := name.get("literal"):
        return "{" + latex_escape(literal) + "}"
    family = " ".join(str(p) for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    family = latex_escape(family)
    if "," in family or " and " in family:
        family = "{" + family + "}"
    given = " ".join(str(p) for p in (name.get("given"), name.get("dropping-particle")) if p)
    parts = [
        family,
        latex_escape(name["suffix"]) if name.get("suffix") else "",
        latex_escape(given),
    ]
    if not parts[1]:
        return f"{family}, {parts[2]}" if parts[2] else family
    return ", ".join(parts)


def _language(tag: Any) -> str:
    tag = str(tag or "").strip()
    return BABEL.get(tag) or BABEL.get(tag.split("-")[0]) or tag


def biblatex_fields(item: dict, *, classic: bool = False) -> list[tuple[str, str]]:
    """(field, BibTeX-ready value) pairs for one item, in a stable order."""
    csl_type = engine.csl_type(item.get("type"))
    fields: list[tuple[str, str]] = []
    if subtype := SUBTYPES.get(csl_type):
        fields.append(("entrysubtype", subtype))
    fields += _names(item)
    fields += _titles(item, csl_type, classic=classic)
    fields += _dates(item, classic=classic)
    fields += _places_and_numbers(item, csl_type, classic=classic)
    for variable, field in PLAIN_FIELDS:
        if value := item.get(variable):
            fields.append((field, latex_escape(value)))
    fields += _languages(item)
    fields += _identifiers(item, classic=classic)
    return fields


def _names(item: dict) -> list[tuple[str, str]]:
    fields = []
    for variable, field, role in NAME_FIELDS:
        if names := name_list(item, variable):
            fields.append((field, " and ".join(bib_name(n) for n in names)))
            if role:
                fields.append((f"{field}type", role))
    interviewees = (item.get("custom") or {}).get("interviewee")
    if isinstance(interviewees, list) and interviewees and not item.get("author"):
        fields.insert(0, ("author", " and ".join(bib_name(n) for n in interviewees)))
    return fields


def _titles(item: dict, csl_type: str, *, classic: bool) -> list[tuple[str, str]]:
    fields = []
    if title := item.get("title"):
        fields.append(("title", latex_title(title)))
    if container := item.get("container-title"):
        if csl_type.startswith("article"):
            field = "journal" if classic else "journaltitle"
        elif csl_type in ("webpage", "post", "post-weblog"):
            field = "organization"
        else:
            field = "booktitle"
        fields.append((field, latex_title(container)))
    if series := item.get("collection-title"):
        fields.append(("series", latex_title(series)))
    return fields


def _dates(item: dict, *, classic: bool) -> list[tuple[str, str]]:
    """BibLaTeX reads EDTF: 1950-01-01?, 1950-01-01~, 1958/1962, 196X; BibTeX only gets
    year and month, so `date` is written there too, for the tools that read it."""
    fields = []
    if issued := edtf_of(item, "issued"):
        fields.append(("date", latex_escape(issued)))
        if classic and (year := _year(issued)):
            fields.append(("year", year))
            if month := re.match(r"\d{4}-(0[1-9]|1[0-2])", issued):
                fields.append(("month", str(int(month[1]))))
    for variable, field in (("accessed", "urldate"), ("original-date", "origdate")):
        if value := edtf_of(item, variable):
            fields.append((field, latex_escape(value)))
    return fields


def _places_and_numbers(item: dict, csl_type: str, *, classic: bool) -> list[tuple[str, str]]:
    fields = []
    if place := item.get("publisher-place"):
        fields.append(("address" if classic else "location", latex_escape(place)))
    if issue := item.get("issue"):
        numeric = str(issue).isdigit() or classic
        fields.append(("number" if numeric else "issue", latex_escape(issue)))
    if (number := item.get("number")) and not csl_type.startswith("article"):
        fields.append(("number", latex_escape(number)))
    return fields


def _languages(item: dict) -> list[tuple[str, str]]:
    fields = []
    if language := item.get("language"):
        fields.append(("langid", latex_escape(_language(language))))
    original = (item.get("custom") or {}).get("original_language")
    if original:
        fields.append(("origlanguage", latex_escape(_language(original))))
    return fields


def _identifiers(item: dict, *, classic: bool) -> list[tuple[str, str]]:
    fields = []
    if url := item.get("URL"):
        fields.append(("url", _verbatim(url)))
        if classic:
            fields.append(("howpublished", "\\url{" + _verbatim(url) + "}"))
    if doi := item.get("DOI"):
        fields.append(("doi", _verbatim(doi)))
    custom = item.get("custom") or {}
    identifiers = custom.get("identifiers") if isinstance(custom.get("identifiers"), dict) else {}
    for scheme, value in sorted(identifiers.items())[:1]:
        fields += [("eprint", latex_escape(value)), ("eprinttype", latex_escape(scheme))]
    if rights := custom.get("rights"):
        fields.append(("rights", latex_escape(rights)))
    return fields


def _bib_entry(item: dict, types: dict[str, str], *, classic: bool) -> str:
    entry_type = types.get(engine.csl_type(item.get("type")), "misc")
    fields = biblatex_fields(item, classic=classic)
    if classic:
        fields = _classic_fields(fields)
    seen: set[str] = set()
    lines = []
    for field, value in fields:
        if field not in seen and value:
            seen.add(field)
            lines.append(f"  {field} = {{{value}}},")
    return f"@{entry_type}{{{citation_key(item)},\n" + "\n".join(lines) + "\n}\n"


def _classic_fields(fields: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """BibTeX styles print the URL only from `howpublished`: it wins over the medium."""
    urls = [(f, v) for f, v in fields if f == "howpublished" and v.startswith("\\url{")]
    return [(f, v) for f, v in fields if f != "howpublished" or not urls] + urls


def _bib_file(items: Sequence[dict], types: dict[str, str], *, classic: bool) -> str:
    header = "% Exported by Marginalia (UTF-8). Field mapping: docs/exports.md\n\n"
    entries, keys = [], set()
    for item in items:
        key = citation_key(item)
        if key in keys:
            raise ValueError(f"Two items share the citation key {key!r}.")
        keys.add(key)
        entries.append(_bib_entry(item, types, classic=classic))
    return header + "\n".join(entries)


def to_biblatex(items: Sequence[dict]) -> str:
    """BibLaTeX for biber: EDTF dates, translator, recipient, langid, archive fields."""
    return _bib_file(items, BIBLATEX_TYPES, classic=False)


def to_bibtex(items: Sequence[dict]) -> str:
    """Classic BibTeX types and year/month, plus the same extra fields (BibTeX ignores
    what it does not know; Better BibTeX, pandoc and our importer read them)."""
    return _bib_file(items, BIBTEX_TYPES, classic=True)


# --- RIS (Zotero's tag conventions) ----------------------------------------------------

RIS_TYPES = {
    "manuscript": "MANSCPT",
    "letter": "PCOMM",
    "personal_communication": "PCOMM",
    "interview": "PCOMM",
    "article-magazine": "MGZN",
    "article-newspaper": "NEWS",
    "article-journal": "JOUR",
    "webpage": "ELEC",
    "post-weblog": "BLOG",
    "book": "BOOK",
    "chapter": "CHAP",
    "report": "RPRT",
    "thesis": "THES",
    "map": "MAP",
    "entry-encyclopedia": "ENCYC",
    "entry-dictionary": "DICT",
    "legislation": "STAT",
    "bill": "BILL",
    "speech": "SLIDE",
    "paper-conference": "CPAPER",
    "legal_case": "CASE",
    "hearing": "HEAR",
    "pamphlet": "PAMP",
}
# Zotero's second creator tag means a different role per type (translators/RIS.js).
RIS_A2 = {
    "letter": "recipient",
    "personal_communication": "recipient",
    "interview": "interviewer",
    "book": "collection-editor",
}
RIS_T2_IS_SERIES = {"book", "report", "map"}


def ris_date(edtf: str) -> str:
    """Zotero's DA form "1950/01/16/" with "?" in the last part for an uncertain date;
    a range or unspecified digits (1958/1962, 196X) as the EDTF string itself."""
    match = SIMPLE_DATE.fullmatch(edtf)
    if not match:
        return edtf
    year, month, day, qualifier = match.groups()
    return f"{year}/{month or ''}/{day or ''}/{'?' if qualifier else ''}"


def _ris_names(item: dict, csl_type: str) -> list[tuple[str, str]]:
    secondary = RIS_A2.get(csl_type, "editor")
    tags = [("AU", "author"), ("A2", secondary), ("A4", "translator")]
    if secondary != "editor":
        tags.append(("ED", "editor"))
    if secondary != "recipient" and name_list(item, "recipient"):
        tags.append(("A2", "recipient"))
    lines = []
    for tag, variable in tags:
        for name in name_list(item, variable):
            lines.append((tag, _ris_name(name)))
    return lines


def _ris_name(name: dict) -> str:
    if literal := name.get("literal"):
        return str(literal)
    family = " ".join(str(p) for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    given = " ".join(str(p) for p in (name.get("given"), name.get("dropping-particle")) if p)
    parts = [family, given] + ([str(name["suffix"])] if name.get("suffix") else [])
    return ", ".join(p for p in parts if p) if given else family


def ris_tags(item: dict) -> list[tuple[str, str]]:
    """(tag, value) lines for one item, TY first and ER last."""
    csl_type = engine.csl_type(item.get("type"))
    tags = [("TY", RIS_TYPES.get(csl_type, "GEN")), ("ID", citation_key(item))]
    tags += [("TI", item.get("title", ""))]
    container = item.get("container-title", "")
    if csl_type in RIS_T2_IS_SERIES:
        tags.append(("T2", item.get("collection-title", "")))
    else:
        tags += [("T2", container), ("T3", item.get("collection-title", ""))]
    tags += _ris_names(item, csl_type)
    issued = edtf_of(item, "issued")
    tags += [("PY", _year(issued)), ("DA", ris_date(issued)) if issued else ("DA", "")]
    tags += [(tag, item.get(variable, "")) for tag, variable in RIS_PLAIN]
    if page := str(item.get("page") or ""):
        start, end = ([*re.split(r"\s*[-–—]+\s*", page, maxsplit=1), ""])[:2]
        tags += [("SP", start), ("EP", end)]
    if accessed := edtf_of(item, "accessed"):
        tags.append(("Y2", ris_date(accessed)))
    tags += _ris_extra(item)
    lines = [(tag, _ris_value(tag, value)) for tag, value in tags if value]
    return [*lines, ("ER", "")]


def _ris_value(tag: str, value: Any) -> str:
    """One line per tag: a note keeps its paragraphs as HTML (Zotero's N1 is HTML)."""
    text = str(value)
    if tag == "N1" and "\n" in text.strip():
        paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n|\n", text) if p.strip()]
        return "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return " ".join(text.split())


RIS_PLAIN = (
    ("PB", "publisher"),
    ("CY", "publisher-place"),
    ("ET", "edition"),
    ("VL", "volume"),
    ("IS", "issue"),
    ("M3", "genre"),
    ("DB", "archive"),
    ("AN", "archive_location"),
    ("CN", "call-number"),
    ("LA", "language"),
    ("UR", "URL"),
    ("DO", "DOI"),
    ("SN", "ISBN"),
    ("AB", "abstract"),
    ("N1", "note"),
)


def _ris_extra(item: dict) -> list[tuple[str, str]]:
    """What RIS has no tag for, as Zotero's Extra lines ("archive-place: Moscow") in M2."""
    lines = []
    for variable in ("archive-place", "archive_collection", "medium"):
        if value := item.get(variable):
            lines.append(("M2", f"{variable}: {value}"))
    custom = item.get("custom") or {}
    if original := custom.get("original_language"):
        lines.append(("M2", f"original-language: {original}"))
    if (issued := custom.get("edtf", {}).get("issued")) and not SIMPLE_DATE.fullmatch(str(issued)):
        lines.append(("M2", f"issued: {issued}"))
    return lines


def to_ris(items: Sequence[dict]) -> str:
    """RIS as Zotero writes it (CRLF line ends, "TY  - " tags, a blank line between)."""
    records = []
    for item in items:
        records.append("\r\n".join(f"{tag}  - {value}" for tag, value in ris_tags(item)))
    return "\r\n\r\n".join(records) + ("\r\n" if records else "")


WRITERS: dict[str, Callable[[Sequence[dict]], str]] = {
    "csl-json": to_csl_json,
    "biblatex": to_biblatex,
    "bibtex": to_bibtex,
    "ris": to_ris,
}
