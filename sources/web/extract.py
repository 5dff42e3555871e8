"""What a web page says of itself, and its main text.

The metadata are read in the order reference managers trust them: Highwire `citation_*`
(what Google Scholar and Zotero read first), then JSON-LD (`ScholarlyArticle`,
`NewsArticle`, `Article`, `WebPage`), Dublin Core, Open Graph, then trafilatura's own guess
and the `<title>`. The main text is trafilatura's (boilerplate, navigation and comments
left out), as HTML, so that the text importer keeps its paragraphs and sanitises it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import lxml.html

from sources.web.addresses import cited

ARTICLE_TYPES = {
    "scholarlyarticle": "article-journal",
    "newsarticle": "article-newspaper",
    "reportagenewsarticle": "article-newspaper",
    "article": "article",
    "blogposting": "post-weblog",
    "webpage": "webpage",
}
_DATE = re.compile(r"(\d{4})(?:[-/](\d{1,2})(?:[-/](\d{1,2}))?)?")


def trafilatura_module():
    """trafilatura, imported when a page is first read: it brings lxml's cleaners, htmldate
    and courlan, half a second of start-up no other request should pay (the site's URLs
    import this module)."""
    import trafilatura

    return trafilatura


def _metas(tree) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for meta in tree.iter("meta"):
        name = (meta.get("name") or meta.get("property") or "").strip().lower()
        if name.startswith("dcterms."):  # DCMI terms, as archives and repositories write them
            name = "dc." + name.removeprefix("dcterms.")
        content = (meta.get("content") or "").strip()
        if name and content:
            found.setdefault(name, []).append(content)
    return found


def _json_ld(tree) -> dict[str, Any]:
    """The first JSON-LD object of an article type (in a list or an @graph)."""
    for script in tree.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        stack = data if isinstance(data, list) else [data]
        while stack:
            item = stack.pop(0)
            if not isinstance(item, dict):
                continue
            stack.extend(item.get("@graph", []) if isinstance(item.get("@graph"), list) else [])
            kinds = item.get("@type")
            kinds = kinds if isinstance(kinds, list) else [kinds]
            if any(isinstance(k, str) and k.lower() in ARTICLE_TYPES for k in kinds):
                return item
    return {}


def _edtf(value: str) -> str:
    match = _DATE.search(value or "")
    if not match:
        return ""
    year, month, day = match.groups()
    parts = [year] + [f"{int(p):02d}" for p in (month, day) if p]
    return "-".join(parts)


def _names(
    values: list[Any], organisations: frozenset[str] | set[str] = frozenset()
) -> list[dict[str, str]]:
    """CSL names; one that is the site's or publisher's own name (`organisations`, casefolded:
    "By Wikimedia Foundation" on its own site) or a JSON-LD `Organization` is an organisation,
    kept whole as a literal."""
    names = []
    for value in values:
        if isinstance(value, dict) and value.get("familyName") and not value.get("name"):
            names.append(
                {"family": str(value["familyName"]), "given": str(value.get("givenName") or "")}
            )
            continue
        body = isinstance(value, dict) and value.get("@type") == "Organization"
        if isinstance(value, dict):
            value = value.get("name", "")
        if not isinstance(value, str) or not value.strip():
            continue
        value = " ".join(value.split())
        if body or value.casefold() in organisations:
            names.append({"literal": value})
        elif "," in value:  # "Westad, Odd Arne"
            family, given = (part.strip() for part in value.split(",", 1))
            names.append({"family": family, "given": given})
        elif " " in value:
            given, family = value.rsplit(" ", 1)
            names.append({"family": family, "given": given})
        else:
            names.append({"literal": value})
    return names


def _periodical(ld: dict[str, Any]) -> str:
    """The name of the outermost work an article `isPartOf` (issue → volume → periodical)."""
    name, part = "", ld.get("isPartOf")
    for _ in range(4):
        part = part[0] if isinstance(part, list) and part else part
        if not isinstance(part, dict):
            break
        if isinstance(part.get("name"), str) and part["name"].strip():
            name = part["name"]
        part = part.get("isPartOf")
    return name


def page_metadata(html: str, url: str) -> dict[str, Any]:
    """A CSL item for the page at `url` from what its HTML says (accessed today)."""
    tree = lxml.html.fromstring(html or "<html></html>")
    metas, ld = _metas(tree), _json_ld(tree)

    def first(*names: str) -> str:
        for name in names:
            if metas.get(name):
                return metas[name][0]
        return ""

    guess = trafilatura_module().extract_metadata(html, default_url=url)
    canonical = ""
    for link in tree.iter("link"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            canonical = link.get("href").strip()
            break
    ld_kind = ld.get("@type")
    ld_kind = (ld_kind[0] if isinstance(ld_kind, list) else ld_kind) or ""
    journal = first("citation_journal_title", "citation_conference_title")
    kind = "article-journal" if journal else ARTICLE_TYPES.get(str(ld_kind).lower(), "webpage")
    if kind == "webpage" and first("og:type") == "article":
        kind = "article"
    title = (
        first("citation_title", "dc.title")
        or next((ld[k] for k in ("headline", "name") if isinstance(ld.get(k), str)), "")
        or first("og:title")
        or (guess.title if guess else "")
        or (tree.findtext(".//title") or "")
    )
    publisher = ld.get("publisher", {}).get("name") if isinstance(ld.get("publisher"), dict) else ""
    sites = [first("og:site_name"), first("dc.publisher"), publisher,
             guess.sitename if guess and guess.sitename else ""]  # fmt: skip
    bodies = {" ".join(s.split()).casefold() for s in sites if isinstance(s, str) and s.strip()}
    ld_authors = ld.get("author") if isinstance(ld.get("author"), list) else [ld.get("author")]
    authors = (
        _names(metas.get("citation_author", []), bodies)
        or _names(ld_authors, bodies)
        or _names(metas.get("dc.creator", []) + metas.get("author", []), bodies)
        or _names([guess.author] if guess and guess.author else [], bodies)
    )
    issued = _edtf(
        first(
            "citation_publication_date",
            "citation_date",
            "dc.date",
            "dc.issued",
            "dc.created",
            "article:published_time",
        )
        or (ld.get("datePublished") if isinstance(ld.get("datePublished"), str) else "")
        or (guess.date if guess and guess.date else "")
    )
    container = (
        journal
        or _periodical(ld)
        or publisher
        or first("og:site_name", "dc.publisher")
        or (guess.sitename if guess and guess.sitename else "")
    )
    item: dict[str, Any] = {
        "type": kind,
        "title": " ".join(title.split())[:2000],
        "URL": cited(canonical or url),
        "accessed": {"date-parts": [[*map(int, dt.date.today().isoformat().split("-"))]]},
        "container-title": container,
        "DOI": first("citation_doi", "dc.identifier.doi").removeprefix("doi:"),
        "abstract": first("citation_abstract", "description", "og:description", "dc.description"),
        "language": first("citation_language", "dc.language", "og:locale").replace("_", "-"),
        "volume": first("citation_volume"),
        "issue": first("citation_issue"),
        "page": "–".join(p for p in (first("citation_firstpage"), first("citation_lastpage")) if p),
        "author": authors,
    }
    if issued:
        item["issued"] = {"date-parts": [[int(p) for p in issued.split("-")]]}
    return {key: value for key, value in item.items() if value}


def main_text_html(html: str, url: str) -> str:
    """The page's main text as HTML (headings, paragraphs, lists, quotes, tables), or ""."""
    found = trafilatura_module().extract(
        html,
        url=url,
        output_format="html",
        include_comments=False,
        include_tables=True,
        include_images=False,
        favor_precision=True,
    )
    return found or ""
