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
from typing import TYPE_CHECKING, Any, NamedTuple

from django.utils.text import slugify

from citations import engine
from core.dates import SIMPLE_DATE
from sources.imports.bibtex import archival_addendum

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
        return WRITERS[fmt]([data_item(item) for item in items])
    if content not in CONTENTS:
        raise ValueError(f"Unknown content {content!r}. Accepted: {', '.join(CONTENTS)}.")
    if content == "notes":
        notes = engine.render_notes(
            [engine.Citation(item) for item in items], style=style, locale=locale, fmt=fmt
        )
        entries = [full for full, _ in notes]
        return formatted_document(entries, fmt, title=title, numbered=True)
    entries, left_out = bibliography(items, style=style, locale=locale, fmt=fmt)
    return formatted_document(entries, fmt, title=title, numbered=False, left_out=left_out)


class LeftOut(NamedTuple):
    """An item a style's bibliography prints nothing for: its full note, and why."""

    item: dict
    note: str
    reason: str


def bibliography(
    items: Sequence[dict], *, style: str, locale: str, fmt: str
) -> tuple[list[str], list[LeftOut]]:
    """The style's bibliography entries, and the items it prints nothing for (Chicago
    leaves personal communications and unpublished documents no reader can retrieve to
    the notes), each with its full note and the reason, so none is left out in silence."""
    keyed = engine.render_bibliography_keyed(items, style=style, locale=locale, fmt=fmt)
    entries = [entry for _, entry in keyed if _printed(entry)]
    omitted = [item for item, entry in keyed if not _printed(entry)]
    if not omitted:
        return entries, []
    notes = engine.render_notes(
        [engine.Citation(item) for item in omitted], style=style, locale=locale, fmt=fmt
    )
    return entries, [
        LeftOut(item, full, omission_reason(item))
        for item, (full, _) in zip(omitted, notes, strict=True)
    ]


def _printed(entry: str) -> bool:
    return bool(re.sub(r"<[^>]+>", "", entry or "").strip())


def omission_reason(item: dict) -> str:
    """Why a note-and-bibliography style leaves an item out of its bibliography, and
    what to do about it (CMOS 18 as the Chicago styles encode it)."""
    csl_type = engine.csl_type(item.get("type"))
    if csl_type in ("personal_communication", "interview"):
        return (
            "cited in notes only, as a personal communication no reader can retrieve; give "
            "its archive or URL to list it"
        )
    if csl_type in ("document", "manuscript", "paper-conference", "speech"):
        return (
            "an unpublished document held in no archive and with no publisher or URL, which "
            "the style cites in notes only; give its archive, publisher or URL to list it, "
            "or choose a style that lists every source (Chicago 17th edition)"
        )
    if csl_type == "post":
        return "a social-media post, which the style cites in notes only"
    if csl_type.startswith("entry"):
        return "an unsigned reference entry, which the style cites in notes only; give its author"
    return "the style prints nothing for it; choose another style"


def data_item(item: dict) -> dict:
    """The item for a data format: the genre a citation leaves out when the title already
    says it (`sources.csl`) is written again, since data formats drop nothing."""
    custom = item.get("custom") or {}
    if not item.get("genre") and isinstance(custom.get("genre"), str):
        return item | {"genre": custom["genre"]}
    return item


def export_sources(sources: Iterable[Source], fmt: str, **options: Any) -> str:
    """`export_items` for model instances (prefetch `creators` for large selections)."""
    from sources.csl import source_to_csl

    return export_items([source_to_csl(source) for source in sources], fmt, **options)


def export_filename(selection_name: str, fmt: str, *, today: dt.date | None = None) -> str:
    """e.g. "sino-soviet-relations-2024-05-01.bib": ASCII, safe in a Content-Disposition."""
    if fmt not in EXTENSIONS:
        raise ValueError(f"Unknown export format {fmt!r}. Accepted: {', '.join(EXTENSIONS)}.")
    # Dashes of every kind are word breaks ("1949–1950" stays 1949-1950, not 19491950).
    name = re.sub(r"[\u2010-\u2015\u2212/]", "-", selection_name)
    stem = slugify(_ascii(name))[:80].strip("-") or "marginalia-export"
    flavour = "-bibtex" if fmt == "bibtex" else ""  # BibLaTeX and BibTeX files both end .bib
    return f"{stem}{flavour}-{(today or dt.date.today()).isoformat()}.{EXTENSIONS[fmt]}"


LEFT_OUT_HEADING = "Cited in notes only"


def formatted_document(
    entries: Sequence[str],
    fmt: str,
    *,
    title: str,
    numbered: bool,
    left_out: Sequence[LeftOut] = (),
) -> str:
    """Rendered entries as one file: an HTML page, Markdown or plain text; what the style
    left out of a bibliography follows under its own heading, each with the reason."""
    if fmt == "html":
        tag = "ol" if numbered else "div"
        inner = "li" if numbered else "div"
        body = "\n".join(f'  <{inner} class="csl-entry">{entry}</{inner}>' for entry in entries)
        omitted = ""
        if left_out:
            rows = "\n".join(
                f'  <li class="csl-entry">{o.note} <small>({html.escape(o.reason)})</small></li>'
                for o in left_out
            )
            omitted = f'<h2>{LEFT_OUT_HEADING}</h2>\n<ul class="left-out">\n{rows}\n</ul>\n'
        return (
            '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n</head>\n<body>\n"
            f'<h1>{html.escape(title)}</h1>\n<{tag} class="csl-bib-body">\n{body}\n</{tag}>\n'
            f"{omitted}<p><small>{html.escape(ATTRIBUTION)}</small></p>\n</body>\n</html>\n"
        )
    lines = [f"{n}. {entry}" if numbered else entry for n, entry in enumerate(entries, 1)]
    heading = f"# {title}" if fmt == "markdown" else title
    text = heading + "\n\n" + "\n\n".join(lines) + "\n"
    if left_out:
        sub = f"## {LEFT_OUT_HEADING}" if fmt == "markdown" else LEFT_OUT_HEADING
        text += f"\n{sub}\n\n" + "\n\n".join(f"{o.note} ({o.reason})" for o in left_out) + "\n"
    return text


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
# Controls no export may carry (a NUL stops biber; XML 1.0 refuses them all).
CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

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
    "letter": "misc",
    "personal_communication": "misc",
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
    "treaty": "misc",
    "legislation": "misc",
    "entry-encyclopedia": "inreference",
    "entry-dictionary": "inreference",
    "pamphlet": "booklet",
    "paper-conference": "inproceedings",
    "dataset": "dataset",
    "software": "software",
    "patent": "patent",
    "periodical": "periodical",
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
    "patent": "misc",
    "standard": "misc",
    "periodical": "misc",
    "review": "misc",
    "legal_case": "misc",
}
SUBTYPES = {
    "article-magazine": "magazine",
    "article-newspaper": "newspaper",
    "interview": "interview",
    "speech": "speech",
    "map": "map",
}
# Entry types our importer reads back as exactly this CSL type; every other type is said
# again in `entrysubtype` (@misc + entrysubtype = {motion_picture}), so none drifts.
EXACT_BACK = {
    "unpublished": "manuscript", "book": "book", "incollection": "chapter",
    "report": "report", "thesis": "thesis", "inreference": "entry-encyclopedia",
    "booklet": "pamphlet", "inproceedings": "paper-conference", "dataset": "dataset",
    "software": "software", "patent": "patent", "periodical": "periodical",
    "online": "webpage", "techreport": "report", "phdthesis": "thesis",
}  # fmt: skip
# Name variables: BibLaTeX field, and the editor-type role where BibLaTeX has no field.
NAME_FIELDS = (
    ("author", "author", None),
    ("editor", "editor", None),
    ("translator", "translator", None),
    ("container-author", "bookauthor", None),
    ("interviewer", "editora", "interviewer"),
    ("contributor", "editorb", "collaborator"),
    ("collection-editor", "editorc", "serieseditor"),
    ("recipient", "namea", "recipient"),
)
# Name lists for roles BibLaTeX has no field for (composer, director…): typed by role.
SPARE_NAME_FIELDS = ("nameb", "namec")
PLAIN_FIELDS = (
    ("edition", "edition"),
    ("volume", "volume"),
    ("page", "pages"),
    ("publisher", "publisher"),
    ("genre", "type"),
    ("medium", "howpublished"),
    ("ISBN", "isbn"),
    ("ISSN", "issn"),
    ("abstract", "abstract"),
)
# Archival fields: biber's default data model has none, so BibLaTeX gets standard ones
# (`library` is "a library name and a call number" in biblatex's manual; the user fields
# are biblatex's own for such data), and an `addendum` standard styles print. Classic
# BibTeX keeps Better BibTeX's names, which pandoc, Better BibTeX and we read.
ARCHIVAL_BIBLATEX = (
    ("archive", "library"),
    ("archive-place", "usera"),
    ("archive_collection", "userb"),
    ("archive_location", "userc"),
    ("call-number", "userd"),
)
ARCHIVAL_BIBTEX = (
    ("archive", "archive"),
    ("archive-place", "archive_place"),
    ("archive_collection", "archive_collection"),
    ("archive_location", "archive_location"),
    ("call-number", "callnumber"),
)
# CSL variables with a BibLaTeX field of their own.
VARIABLE_FIELDS = (
    ("number", "number"),
    ("event-title", "eventtitle"),
    ("event-place", "venue"),
    ("number-of-pages", "pagetotal"),
    ("number-of-volumes", "volumes"),
    ("chapter-number", "chapter"),
    ("title-short", "shorttitle"),
    ("container-title-short", "shortjournal"),
    ("version", "version"),
    ("status", "pubstate"),
    ("volume-title", "issuetitle"),
    ("part", "part"),
    ("original-title", "origtitle"),
    ("original-publisher", "origpublisher"),
    ("original-publisher-place", "origlocation"),
    ("division", "division"),
)
# Dates: biblatex's ISO 8601-2 forms; what it cannot read keeps its exact EDTF elsewhere.
DATE_FIELDS = (("issued", "date"), ("accessed", "urldate"), ("original-date", "origdate"))
DATE_FIELDS += (("event-date", "eventdate"),)
EXACT_DATE_FIELD = "userf"


def clean(text: Any) -> str:
    """Text without control characters (line breaks and tabs stay)."""
    return CONTROLS.sub("", str(text))


def latex_escape(text: str) -> str:
    """Plain text for a BibTeX value: LaTeX specials escaped, paragraphs kept (a blank
    line), a single line break as LaTeX's `\\\\` (our importer reads it back as one), and
    every other run of white space made one space."""
    paragraphs = [p for p in re.split(r"\n\s*\n", clean(text)) if p.strip()]
    escaped = []
    for paragraph in paragraphs:
        lines = [" ".join(line.split()) for line in paragraph.split("\n") if line.strip()]
        escaped.append(
            " \\\\ ".join(LATEX_PATTERN.sub(lambda m: LATEX_SPECIALS[m[0]], ln) for ln in lines)
        )
    return "\n\n".join(escaped)


def latex_title(text: str) -> str:
    """A title with its capitalised words protected in braces, runs of them together and
    without the punctuation after them ("{Record} of {Conversation} with {Mao Zedong},
    {Moscow}"): pandoc and BibTeX styles lower-case unprotected words."""
    words = " ".join(clean(text).split()).split(" ")
    parts: list[str] = []
    run: list[str] = []
    for word in words:
        core = word.rstrip(",.;:!?)”’\"'")
        if any(ch.isupper() for ch in core):
            run.append(word)
            if core != word:  # punctuation ends the protected run
                parts.append(_protected(run))
                run = []
        else:
            if run:
                parts.append(_protected(run))
                run = []
            parts.append(latex_escape(word))
    if run:
        parts.append(_protected(run))
    return " ".join(parts)


def _protected(words: list[str]) -> str:
    text = " ".join(words)
    core = text.rstrip(",.;:!?)”’\"'")
    return "{" + latex_escape(core) + "}" + latex_escape(text[len(core) :])


def _verbatim(text: str) -> str:
    """URLs and DOIs are read verbatim; only braces and white space would break the entry."""
    return re.sub(r"[{}\s]", lambda m: f"%{ord(m[0]):02X}", clean(text).strip())


def bib_name(name: dict) -> str:
    """BibTeX's `von Last, Jr, First` (particles in front of the family name, the suffix
    between family and given names); an institution, and a name written family name
    first (`static-ordering`: Mao Zedong), in braces as one name, so that no tool splits
    or reorders it."""
    if (literal := name.get("literal")) and not name.get("static-ordering"):
        return "{" + latex_escape(literal) + "}"
    family = " ".join(str(p) for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    given = " ".join(str(p) for p in (name.get("given"), name.get("dropping-particle")) if p)
    if name.get("static-ordering"):
        glue = "" if re.search(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]", family) else " "
        return "{" + latex_escape(glue.join(p for p in (family, given) if p)) + "}"
    family = latex_escape(family)
    if "," in family or " and " in family:
        family = "{" + family + "}"
    suffix = latex_escape(name["suffix"]) if name.get("suffix") else ""
    if suffix:
        return f"{family}, {suffix}, {latex_escape(given)}"
    return f"{family}, {latex_escape(given)}" if given else family


def _language(tag: Any) -> str:
    tag = str(tag or "").strip()
    return BABEL.get(tag) or BABEL.get(tag.split("-")[0]) or tag


def biblatex_fields(item: dict, *, classic: bool = False) -> list[tuple[str, str]]:
    """(field, BibTeX-ready value) pairs for one item, in a stable order."""
    csl_type = engine.csl_type(item.get("type"))
    fields: list[tuple[str, str]] = []
    entry_type = (BIBTEX_TYPES if classic else BIBLATEX_TYPES).get(csl_type, "misc")
    subtype = SUBTYPES.get(csl_type)
    if not subtype and EXACT_BACK.get(entry_type) != str(item.get("type")):
        subtype = str(item.get("type") or "document")  # @misc + entrysubtype = {map}…
    if subtype:
        fields.append(("entrysubtype", subtype))
    fields += _names(item)
    fields += _titles(item, csl_type, classic=classic)
    fields += _dates(item, classic=classic)
    fields += _places_and_numbers(item, csl_type, classic=classic)
    for variable, field in PLAIN_FIELDS:
        if value := item.get(variable):
            fields.append((field, latex_escape(value)))
    fields += _archival(item, classic=classic)
    fields += _variables(item)
    fields += _languages(item)
    fields += _identifiers(item, classic=classic)
    fields += _notes(item, classic=classic)
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
    known = {variable for variable, _, _ in NAME_FIELDS}
    others = [v for v in NAME_VARIABLES if v not in known and name_list(item, v)]
    for field, variable in zip(SPARE_NAME_FIELDS, others, strict=False):
        fields.append((field, " and ".join(bib_name(n) for n in name_list(item, variable))))
        fields.append((f"{field}type", variable))
    return fields


NAME_VARIABLES = (
    "chair", "compiler", "composer", "curator", "director", "editorial-director",
    "executive-producer", "guest", "host", "illustrator", "narrator", "organizer",
    "original-author", "performer", "producer", "reviewed-author", "script-writer",
    "series-creator",
)  # fmt: skip


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
    """biblatex reads ISO 8601-2 (EDTF level 1): 1950-01-01?, 1960-07~, 1958/1962, 196X,
    -0043. A date it cannot read (1950?-01-01, sets, a date kept as written) is written
    as the nearest it can, and the exact EDTF kept in `userf`; classic BibTeX gets year
    and month too."""
    fields = []
    for variable, field in DATE_FIELDS:
        edtf = edtf_of(item, variable)
        if not edtf:
            continue
        readable = biblatex_date(edtf)
        if classic:  # BibTeX has no user fields: the EDTF itself, for the tools that read it
            fields.append((field, clean(edtf)))
        elif readable:
            fields.append((field, readable))
        if variable == "issued" and readable != edtf and not classic:
            fields.append((EXACT_DATE_FIELD, latex_escape(edtf)))
        if variable == "issued" and classic and (year := _year(readable or edtf)):
            fields.append(("year", year))
            if month := re.match(r"-?\d{4}-(0[1-9]|1[0-2])", readable or ""):
                fields.append(("month", str(int(month[1]))))
    return fields


_LEVEL1 = re.compile(
    r"-?\d{4}(?:-\d{2}(?:-\d{2})?)?[?~%]?|-?\d{3}X|-?\d{2}XX|\d{4}-XX(?:-XX)?|\d{4}-\d{2}-XX"
)


def biblatex_date(edtf: str) -> str:
    """The EDTF as biblatex's date fields read it (ISO 8601-2 level 1 and ranges with open
    ends); "" when nothing of it can be read there."""
    edtf = clean(edtf).strip()
    ends = edtf.split("/")
    if len(ends) > 2:
        return ""
    readable = [_level1(end) for end in ends]
    if any(r is None for r in readable):
        years = sorted(re.findall(r"(?<![\d-])\d{4}(?!\d)", edtf))
        return "/".join(dict.fromkeys([years[0], years[-1]])) if years else ""
    return "/".join(r or "" for r in readable)


def _level1(end: str) -> str | None:
    """One end: as it is when biblatex reads it; "" for an open end ("..", ""); a date
    qualified in its parts (1950?-01-01) qualified as a whole (1950-01-01?)."""
    if end in ("", ".."):
        return ""
    month = re.match(r"-?\d{4}[?~%]?-(\d{2})", end)
    if month and not (1 <= int(month[1]) <= 12 or 21 <= int(month[1]) <= 24):
        return None  # 1950-13: no month biblatex (or anyone) can read
    if _LEVEL1.fullmatch(end):
        return end
    qualifiers = set(re.findall(r"[?~%]", end))
    bare = re.sub(r"[?~%]", "", end)
    if not _LEVEL1.fullmatch(bare):
        return None
    if not qualifiers:
        return bare
    return bare + ("%" if len(qualifiers) > 1 or "%" in qualifiers else qualifiers.pop())


def _places_and_numbers(item: dict, csl_type: str, *, classic: bool) -> list[tuple[str, str]]:
    fields = []
    if place := item.get("publisher-place"):
        fields.append(("address" if classic else "location", latex_escape(place)))
    if issue := item.get("issue"):
        numeric = str(issue).isdigit() or classic
        fields.append(("number" if numeric else "issue", latex_escape(issue)))
    return fields


def _archival(item: dict, *, classic: bool) -> list[tuple[str, str]]:
    mapping = ARCHIVAL_BIBTEX if classic else ARCHIVAL_BIBLATEX
    fields = [(field, latex_escape(item[v])) for v, field in mapping if item.get(v)]
    if fields and not classic:
        fields.append(("addendum", latex_escape(archival_addendum(item))))
    return fields


def _variables(item: dict) -> list[tuple[str, str]]:
    fields = []
    for variable, field in VARIABLE_FIELDS:
        if (value := item.get(variable)) and not (
            variable == "number" and str(item.get("type", "")).startswith("article")
        ):
            fields.append((field, latex_escape(value)))
    if keywords := _keywords(item):
        fields.append(("keywords", latex_escape(", ".join(keywords))))
    return fields


def _keywords(item: dict) -> list[str]:
    value = item.get("keyword")
    words = value if isinstance(value, list) else str(value or "").split(",")
    return [w.strip() for w in words if str(w).strip()]


def extra_lines(item: dict) -> list[str]:
    """What no BibLaTeX or RIS field holds, as Zotero's Extra lines ("authority: …"), which
    Zotero, Better BibTeX and our importer read back from the note."""
    lines = []
    for variable in sorted(EXTRA_VARIABLES):
        if (value := item.get(variable)) not in (None, "", [], {}):
            if isinstance(value, dict):
                value = edtf_of(item, variable) or value.get("literal") or value.get("raw", "")
            lines.append(f"{variable}: {value}")
    return lines


EXTRA_VARIABLES = {
    "authority", "dimensions", "jurisdiction", "references", "reviewed-genre",
    "reviewed-title", "scale", "section", "source", "supplement", "printing",
    "available-date", "submitted", "annote", "collection-number", "page-first",
    "volume-title-short", "part-title", "citation-label", "archive-place-note",
}  # fmt: skip


def _notes(item: dict, *, classic: bool) -> list[tuple[str, str]]:
    note = "\n".join(extra_lines(item))
    if item.get("note"):
        note = f"{note}\n{item['note']}" if note else str(item["note"])
    return [("note", latex_escape(note))] if note else []


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
    if len(identifiers) > 1:  # every identifier, whatever its scheme (docs/exports.md)
        pairs = ", ".join(f"{k}={v}" for k, v in sorted(identifiers.items())[1:])
        fields.append(("verba", latex_escape(pairs)))
    if rights := custom.get("rights"):
        fields.append(("rights" if classic else "usere", latex_escape(rights)))
    return fields


# biber's default data model (biblatex 3.x, biber 2.x `biber-tool.conf`): the fields every
# entry type may have, and each type's own; what a type may not have is moved (a name to a
# spare name list, anything else to an Extra line of the note), never left for biber to
# drop as "invalid in data model".
DATAMODEL_COMMON = frozenset(
    [
        "abstract",
        "annotation",
        "authortype",
        "bookpagination",
        "crossref",
        "doi",
        "eprint",
        "eprintclass",
        "eprinttype",
        "entryset",
        "entrysubtype",
        "execute",
        "file",
        "gender",
        "ids",
        "indextitle",
        "indexsorttitle",
        "isan",
        "ismn",
        "iswc",
        "keywords",
        "label",
        "langid",
        "langidopts",
        "library",
        "lista",
        "listb",
        "listc",
        "listd",
        "liste",
        "listf",
        "namea",
        "nameb",
        "namec",
        "nameatype",
        "namebtype",
        "namectype",
        "nameaddon",
        "options",
        "origlocation",
        "origpublisher",
        "origtitle",
        "pagination",
        "presort",
        "related",
        "relatedoptions",
        "relatedstring",
        "relatedtype",
        "shortauthor",
        "shorteditor",
        "shorthand",
        "shorthandintro",
        "shortjournal",
        "shortseries",
        "shorttitle",
        "sortkey",
        "sortname",
        "sortshorthand",
        "sorttitle",
        "sortyear",
        "url",
        "usera",
        "userb",
        "userc",
        "userd",
        "usere",
        "userf",
        "verba",
        "verbb",
        "verbc",
        "xdata",
        "xref",
        "date",
        "urldate",
        "origdate",
        "year",
        "month",
        "day",
    ]
)
_EDITORS = "editor editora editorb editorc editortype editoratype editorbtype editorctype"
_BOOKISH = f"""addendum afterword annotator author chapter commentator edition {_EDITORS} eid
    foreword introduction isbn language location mainsubtitle maintitle maintitleaddon note
    number origlanguage pages part publisher pubstate series subtitle title titleaddon
    translator volume volumes"""
DATAMODEL_TYPES = {
    "article": f"""addendum annotator author commentator {_EDITORS} eid issn issue issuetitle
        issuesubtitle issuetitleaddon journalsubtitle journaltitle journaltitleaddon language
        note number origlanguage pages pubstate series subtitle title titleaddon translator
        version volume""",
    "book": _BOOKISH + " pagetotal",
    "incollection": _BOOKISH + " booksubtitle booktitle booktitleaddon",
    "inreference": _BOOKISH + " booksubtitle booktitle booktitleaddon",
    "booklet": """addendum author chapter editor editortype eid howpublished language location
        note pages pagetotal pubstate subtitle title titleaddon type""",
    "dataset": """addendum author edition editor editortype language location note number
        organization publisher pubstate series subtitle title titleaddon type version""",
    "misc": """addendum author editor editortype howpublished language location note
        organization pubstate subtitle title titleaddon type version""",
    "software": """addendum author editor editortype howpublished language location note
        organization pubstate subtitle title titleaddon type version""",
    "online": """addendum author editor editortype language note organization pubstate
        subtitle title titleaddon version""",
    "patent": """addendum author holder location note number pubstate subtitle title
        titleaddon type version""",
    "periodical": f"""addendum {_EDITORS} issn issue issuesubtitle issuetitle issuetitleaddon
        language note number pubstate series subtitle title titleaddon volume""",
    "inproceedings": """addendum author booksubtitle booktitle booktitleaddon chapter editor
        editortype eid eventtitle eventtitleaddon eventdate isbn language location mainsubtitle
        maintitle maintitleaddon note number organization pages part publisher pubstate series
        subtitle title titleaddon venue volume volumes""",
    "report": """addendum author chapter eid institution isrn language location note number
        pages pagetotal pubstate subtitle title titleaddon type version""",
    "thesis": """addendum author chapter eid institution language location note pages
        pagetotal pubstate subtitle title titleaddon type""",
    "unpublished": """addendum author eventtitle eventtitleaddon eventdate howpublished
        language location note pubstate subtitle title titleaddon type venue""",
}
DATAMODEL_TYPES = {kind: frozenset(fields.split()) for kind, fields in DATAMODEL_TYPES.items()}
# The CSL variable a BibLaTeX field holds, for the Extra line of a field a type may not have.
FIELD_VARIABLES = {
    "translator": "translator", "editor": "editor", "bookauthor": "container-author",
    "editora": "interviewer", "editorb": "contributor", "editorc": "collection-editor",
    "publisher": "publisher", "location": "publisher-place", "edition": "edition",
    "volume": "volume", "pages": "page", "number": "number", "issue": "issue",
    "series": "collection-title", "booktitle": "container-title",
    "journaltitle": "container-title", "organization": "container-title", "isbn": "ISBN",
    "issn": "ISSN", "howpublished": "medium", "type": "genre", "venue": "event-place",
    "eventtitle": "event-title", "eventdate": "event-date", "pagetotal": "number-of-pages",
    "volumes": "number-of-volumes", "chapter": "chapter-number", "version": "version",
    "pubstate": "status", "issuetitle": "volume-title", "part": "part",
    "origlanguage": "original-language", "addendum": "",
}  # fmt: skip


def fit_datamodel(entry_type: str, fields: list[tuple[str, str]], item: dict) -> list:
    """The fields biber's default data model allows this entry type; the others moved:
    a name list to a free `nameb`/`namec` typed by its role, anything else to a line of
    the note ("publisher: …"), which Zotero, Better BibTeX and our importer read back."""
    allowed = DATAMODEL_COMMON | DATAMODEL_TYPES.get(entry_type, frozenset())
    kept = [(f, v) for f, v in fields if f in allowed or f.removesuffix("type") in allowed]
    moved = [(f, v) for f, v in fields if (f, v) not in kept]
    spare = [name for name in SPARE_NAME_FIELDS if name not in {f for f, _ in kept}]
    lines: list[str] = []
    for field, value in moved:
        variable = FIELD_VARIABLES.get(field)
        if (field != "type" and field.endswith("type")) or not variable:
            continue
        if name_list(item, variable) and spare:
            name = spare.pop(0)
            kept += [(name, value), (f"{name}type", variable)]
        elif names := name_list(item, variable):
            lines += [f"{variable}: {_extra_name(n)}" for n in names]
        elif variable == "original-language":
            lines.append(
                f"original-language: {(item.get('custom') or {}).get('original_language')}"
            )
        else:
            lines.append(f"{variable}: {edtf_of(item, variable) or clean(item.get(variable, ''))}")
    return _with_note_lines(kept, lines)


def _extra_name(name: dict) -> str:
    if name.get("literal"):
        return str(name["literal"])
    return f"{name.get('family', '')} || {name.get('given', '')}".strip(" |")


def _with_note_lines(fields: list[tuple[str, str]], lines: list[str]) -> list:
    if not lines:
        return fields
    escaped = latex_escape("\n".join(lines))
    notes = [v for f, v in fields if f == "note"]
    note = f"{escaped} \\\\ {notes[0]}" if notes else escaped
    return [(f, v) for f, v in fields if f != "note"] + [("note", note)]


def _bib_entry(item: dict, types: dict[str, str], *, classic: bool) -> str:
    entry_type = types.get(engine.csl_type(item.get("type")), "misc")
    fields = biblatex_fields(item, classic=classic)
    fields = _classic_fields(fields) if classic else fit_datamodel(entry_type, fields, item)
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
    """BibLaTeX for biber's default data model: EDTF dates, translator, recipient,
    langid, the archival fields in standard ones (docs/exports.md)."""
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
    "patent": "PAT",
    "software": "COMP",
    "dataset": "DATA",
    "graphic": "ART",
    "song": "SOUND",
    "musical_score": "MUSIC",
    "motion_picture": "MPCT",
    "standard": "STAND",
    "classic": "CLSWK",
}
# What our RIS reader makes of each TY; any other type is said again in an M2 line.
RIS_BACK = {
    "MANSCPT": "manuscript", "PCOMM": "letter", "MGZN": "article-magazine",
    "NEWS": "article-newspaper", "JOUR": "article-journal", "ELEC": "webpage",
    "BLOG": "post-weblog", "BOOK": "book", "CHAP": "chapter", "RPRT": "report",
    "THES": "thesis", "MAP": "map", "ENCYC": "entry-encyclopedia",
    "DICT": "entry-dictionary", "STAT": "legislation", "BILL": "bill", "SLIDE": "speech",
    "CPAPER": "paper-conference", "CASE": "legal_case", "HEAR": "hearing",
    "PAMP": "pamphlet", "PAT": "patent", "COMP": "software", "DATA": "dataset",
    "ART": "graphic", "SOUND": "song", "MUSIC": "musical_score", "MPCT": "motion_picture",
    "STAND": "standard", "CLSWK": "classic", "GEN": "document",
}  # fmt: skip
# Zotero's second creator tag means a different role per type (translators/RIS.js).
RIS_A2 = {
    "letter": "recipient",
    "personal_communication": "recipient",
    "interview": "interviewer",
    "book": "collection-editor",
}
RIS_T2_IS_SERIES = {"book", "report", "map"}
RIS_ISSN_TYPES = {"article-journal", "article-magazine", "article-newspaper", "periodical"}
# CSL variables RIS has no tag for: written as `variable: value` lines in M2 (Zotero's Extra).
RIS_EXTRA_LINES = (
    "event-title", "event-place", "number-of-pages", "chapter-number", "version", "status",
    "original-title", "original-date", "event-date",
)  # fmt: skip


def ris_date(edtf: str) -> str:
    """Zotero's DA form "1950/01/16/", "?" in the last part for an uncertain or
    approximate date (wherever EDTF put the qualifier); a range or unspecified digits
    by its first day's year ("1958///"): the exact EDTF goes to an M2 line."""
    if not edtf:
        return ""
    first = clean(edtf).split("/")[0]
    qualified = bool(re.search(r"[?~%]", first))
    bare = re.sub(r"[?~%]", "", first)
    match = re.fullmatch(r"(-?\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", bare)
    if not match:
        year = re.match(r"-?\d{4}", bare.replace("X", "0"))
        return f"{year[0]}///" if year else ""
    year, month, day = match.groups()
    if month and int(month) > 12:  # a season (1950-21): the year only
        month = day = None
    return f"{year}/{month or ''}/{day or ''}/{'?' if qualified else ''}"


def _ris_names(item: dict, csl_type: str) -> list[tuple[str, str]]:
    secondary = RIS_A2.get(csl_type, "editor")
    tags = [("AU", "author"), ("A2", secondary), ("A4", "translator")]
    if secondary != "editor":
        tags.append(("ED", "editor"))
    lines = []
    for tag, variable in tags:
        for name in name_list(item, variable):
            lines.append((tag, _ris_name(name)))
    return lines


def _ris_name(name: dict) -> str:
    """ "Family, Given[, Suffix]" (Zotero's form); a name written family name first as
    one name ("Mao Zedong"), which RIS readers keep as written."""
    if literal := name.get("literal"):
        return str(literal)
    family = " ".join(str(p) for p in (name.get("non-dropping-particle"), name.get("family")) if p)
    given = " ".join(str(p) for p in (name.get("given"), name.get("dropping-particle")) if p)
    parts = [family, given] + ([str(name["suffix"])] if name.get("suffix") else [])
    return ", ".join(p for p in parts if p) if given else family


def ris_tags(item: dict) -> list[tuple[str, str]]:
    """(tag, value) lines for one item, TY first and ER last."""
    csl_type = engine.csl_type(item.get("type"))
    ty = RIS_TYPES.get(str(item.get("type")), RIS_TYPES.get(csl_type, "GEN"))
    tags = [("TY", ty), ("ID", citation_key(item))]
    tags += [("TI", item.get("title", ""))]
    container = item.get("container-title", "")
    if csl_type in RIS_T2_IS_SERIES:
        tags.append(("T2", item.get("collection-title", "")))
    else:
        tags += [("T2", container), ("T3", item.get("collection-title", ""))]
    tags += [("J2", item.get("container-title-short", "")), ("ST", item.get("title-short", ""))]
    tags += _ris_names(item, csl_type)
    issued = edtf_of(item, "issued")
    tags += [("PY", _year(issued)), ("DA", ris_date(issued))]
    tags += [(tag, item.get(variable, "")) for tag, variable in RIS_PLAIN]
    if page := str(item.get("page") or ""):
        start, end = ([*re.split(r"\s*[-–—]+\s*", page, maxsplit=1), ""])[:2]
        tags += [("SP", start), ("EP", end)]
    elif csl_type in ("book", "thesis", "manuscript") and item.get("number-of-pages"):
        tags.append(("SP", item["number-of-pages"]))
    tags += _ris_serials(item, csl_type)
    if accessed := edtf_of(item, "accessed"):
        tags.append(("Y2", ris_date(accessed)))
    tags += [("KW", keyword) for keyword in _keywords(item)]
    tags += _ris_extra(item, csl_type, ty)
    lines = [(tag, _ris_value(tag, value)) for tag, value in tags if value]
    return [*lines, ("ER", "")]


def _ris_serials(item: dict, csl_type: str) -> list[tuple[str, str]]:
    """SN: the ISBN and the ISSN (both when both), a report's number."""
    serials = [("SN", item.get(variable, "")) for variable in ("ISBN", "ISSN")]
    if csl_type == "report" and item.get("number"):
        serials.append(("SN", item["number"]))
    elif item.get("number"):
        serials.append(("M1", item["number"]))
    return serials


def _ris_value(tag: str, value: Any) -> str:
    """One line per tag: a note keeps its paragraphs and line breaks as HTML (Zotero's N1
    is HTML)."""
    text = clean(value)
    if tag == "N1" and "\n" in text.strip():
        paragraphs = [p for p in re.split(r"\n\s*\n", text) if p.strip()]
        return "".join(
            "<p>"
            + "<br>".join(
                html.escape(" ".join(ln.split()), quote=False) for ln in p.split("\n") if ln.strip()
            )
            + "</p>"
            for p in paragraphs
        )
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
    ("AB", "abstract"),
    ("N1", "note"),
    ("NV", "number-of-volumes"),
)


def _ris_extra(item: dict, csl_type: str, ty: str) -> list[tuple[str, str]]:
    """What RIS has no tag for, as Zotero's Extra lines ("archive-place: Moscow") in M2:
    our exact type, dates, identifiers, rights and the CSL variables without a tag."""
    lines = []
    if RIS_BACK.get(ty) != str(item.get("type") or "document"):
        lines.append(("M2", f"type: {item.get('type')}"))
    for variable in ("archive-place", "archive_collection", "medium"):
        if value := item.get(variable):
            lines.append(("M2", f"{variable}: {value}"))
    custom = item.get("custom") or {}
    if original := custom.get("original_language"):
        lines.append(("M2", f"original-language: {original}"))
    issued = edtf_of(item, "issued")
    if issued and ris_date(issued) != _plain_ris_date(issued):
        lines.append(("M2", f"issued: {issued}"))
    for variable in RIS_EXTRA_LINES:
        if (value := item.get(variable)) and not (
            variable == "number-of-pages" and csl_type in ("book", "thesis", "manuscript")
        ):
            shown = edtf_of(item, variable) if isinstance(value, dict) else value
            lines.append(("M2", f"{variable}: {shown}"))
    lines += [("M2", line) for line in extra_lines(item)]
    if RIS_A2.get(csl_type) != "recipient":  # A2 means another role there: Extra's name form
        lines += [("M2", f"recipient: {_extra_name(n)}") for n in name_list(item, "recipient")]
    identifiers = custom.get("identifiers") if isinstance(custom.get("identifiers"), dict) else {}
    lines += [("M2", f"identifier {k}: {v}") for k, v in sorted(identifiers.items())]
    if rights := custom.get("rights"):
        lines.append(("M2", f"rights: {rights}"))
    return lines


def _plain_ris_date(edtf: str) -> str:
    """The RIS date of an EDTF that says no more than RIS can (1950-01-16, 1950-01-01?)."""
    match = SIMPLE_DATE.fullmatch(edtf)
    if not match:
        return ""
    year, month, day, qualifier = match.groups()
    if qualifier and qualifier != "?":
        return ""
    return f"{year}/{month or ''}/{day or ''}/{'?' if qualifier else ''}"


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
