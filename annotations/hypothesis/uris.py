"""Page addresses as the Hypothesis client sends them, and the sources they name.

Two visits to one article should find the same annotations: the scheme and host are
lower-cased, the default port, the fragment and common tracking parameters (utm_*, fbclid,
gclid, …) dropped, the rest kept in order.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

TRACKING = ("utm_", "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "yclid")
MAX_URIS = 20  # the client sends a page's address and its links (canonical, DOI, …)


def normalised(uri: str) -> str:
    """`uri` in the one spelling sources are matched by ("" for what is not a web address)."""
    try:
        parts = urlsplit(uri.strip())
    except ValueError:
        return ""
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return ""
    host = parts.hostname.lower()
    try:
        port = parts.port
    except ValueError:
        return ""
    if port and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith(TRACKING)
    ]
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


def spellings(uris: list[str]) -> set[str]:
    """The addresses a source's `url` may be stored as for these pages: each as sent and
    normalised, with and without a trailing slash, over http and https."""
    found: set[str] = set()
    for uri in uris[:MAX_URIS]:
        base = normalised(uri)
        if not base:
            continue
        found.add(uri.strip())
        for variant in (base, base.rstrip("/") if base.endswith("/") else base + "/"):
            found.add(variant)
            other = "http" if variant.startswith("https:") else "https"
            found.add(other + variant[variant.index(":") :])
    found.discard("")
    return found
