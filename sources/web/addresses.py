"""Page addresses as readers and their browsers write them, in the one spelling sources are
matched by: two visits to one article find the same source, whichever way it was reached.
The scheme and host are lower-cased; the default port, the fragment and common tracking
parameters (utm_*, fbclid, gclid, …) dropped; the rest kept in order.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING = ("utm_", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "yclid")


def normalised(url: str) -> str:
    """The one spelling of a page's address that sources are matched by ("" if not http)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    if port and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if not _tracking(k)]  # fmt: skip
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def cited(url: str) -> str:
    """The address a source cites: as the reader's browser had it, less its tracking
    parameters (a newsletter's `utm_source` is not part of the article's address)."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    kept = [piece for piece in parts.query.split("&") if not _tracking(piece.split("=", 1)[0])]
    return urlunsplit(parts._replace(query="&".join(kept)))


def _tracking(parameter: str) -> bool:
    return parameter.lower().startswith(TRACKING)


def spellings(urls: list[str]) -> set[str]:
    """The addresses a source's `url` may be stored as for these pages."""
    found: set[str] = set()
    for url in urls:
        base = normalised(url)
        if not base:
            continue
        found.add(url.strip())
        for variant in (base, base.rstrip("/") if base.endswith("/") else base + "/"):
            found.add(variant)
            other = "http" if variant.startswith("https:") else "https"
            found.add(other + variant[variant.index(":") :])
    found.discard("")
    return found
