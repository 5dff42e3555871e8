"""A web page fetched by the server itself, within a budget: the first annotation on a page
Marginalia does not hold yet (annotations/hypothesis/first_annotation.py) reads the page
from its address, as *Save to Marginalia* reads it from the reader's browser.

A request to an address the reader chooses is a way into the server's own network
(server-side request forgery), so: http and https only; every host is resolved and each of
its addresses checked before connecting — private, loopback, link-local, multicast and
reserved ones are refused unless `WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES` says otherwise —
and the connection goes to the very address checked (no second lookup to rebind); every
redirect is checked the same way, at most MAX_REDIRECTS of them; the body is read in
chunks and stops past `WEB_CAPTURE_MAX_BYTES` (after decompression); the whole fetch,
lookups and redirects included, has `WEB_CAPTURE_SECONDS`. What fails is a
ValidationError on `uri` saying why, in words the reader can act on.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import time
import zlib
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

MAX_REDIRECTS = 5
CHUNK = 64 * 1024
HTML_TYPES = ("text/html", "application/xhtml+xml")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass
class Fetched:
    url: str  # where the page was found, after redirects
    html: str


def refuse(message: str) -> ValidationError:
    return ValidationError({"uri": message})


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends = time.monotonic() + seconds

    def left(self) -> float:
        remaining = self.ends - time.monotonic()
        if remaining <= 0:
            raise refuse(f"The page did not arrive within {self.seconds:g} seconds.")
        return remaining


def _allowed_address(host: str, port: int, deadline: _Deadline) -> str:
    """The first address of `host` that may be connected to; refuses a host any of whose
    addresses is in a private range (a name may resolve to a public and a private one)."""
    deadline.left()
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise refuse(f"The address's host {host[:100]} was not found.") from None
    addresses = [info[4][0] for info in found]
    if not settings.WEB_CAPTURE_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
            if not ip.is_global or ip.is_multicast:
                raise refuse(
                    f"{host[:100]} is a private or local address, which Marginalia does not "
                    "fetch: use Save to Marginalia from the page instead."
                )
    return addresses[0]


def _connection(scheme: str, host: str, port: int, deadline: _Deadline):
    """An HTTP(S) connection to the checked address of `host` (TLS still checks `host`)."""
    address = _allowed_address(host, port, deadline)
    base = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection

    class Pinned(base):  # type: ignore[misc, valid-type]
        def connect(self) -> None:
            self.sock = socket.create_connection((address, self.port), deadline.left())
            if scheme == "https":
                self.sock = self._context.wrap_socket(self.sock, server_hostname=host)
            self.kept = self.sock  # http.client drops `sock` when the response owns it

    return Pinned(host, port, timeout=deadline.left())


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise refuse("The page's address is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise refuse("Only http and https pages can be fetched.")
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), target


def fetch_page(url: str) -> Fetched:
    """The HTML at `url` (following at most MAX_REDIRECTS redirects), within the budget."""
    deadline = _Deadline(settings.WEB_CAPTURE_SECONDS)
    for _ in range(MAX_REDIRECTS + 1):
        scheme, host, port, target = _parts(url)
        connection = _connection(scheme, host, port, deadline)
        try:
            try:
                connection.request("GET", target, headers=_HEADERS)
                response = connection.getresponse()
            except TimeoutError:
                raise refuse(
                    f"The page did not arrive within {deadline.seconds:g} seconds."
                ) from None
            except (OSError, http.client.HTTPException) as error:
                raise refuse(f"The page could not be fetched ({type(error).__name__}).") from None
            location = response.getheader("Location")
            if response.status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            if response.status != 200:
                raise refuse(f"The page's site answered {response.status}, not the page.")
            return Fetched(url, _read_html(response, connection, deadline))
        finally:
            connection.close()
    raise refuse(f"The page redirected more than {MAX_REDIRECTS} times.")


_HEADERS = {
    "User-Agent": "Marginalia (annotation service; fetches a page its reader annotates)",
    "Accept": "text/html,application/xhtml+xml;q=0.9",
    "Accept-Encoding": "gzip, deflate",
}


def _read_html(response, connection, deadline: _Deadline) -> str:
    kind = (response.getheader("Content-Type") or "text/html").split(";")[0].strip().lower()
    if kind not in HTML_TYPES:
        raise refuse(f"The address is not a web page ({kind[:60]}).")
    limit = settings.WEB_CAPTURE_MAX_BYTES
    encoding = (response.getheader("Content-Encoding") or "").strip().lower()
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS)
    body = bytearray()
    while True:
        connection.kept.settimeout(deadline.left())
        try:
            chunk = response.read1(CHUNK)
        except TimeoutError:
            deadline.left()
            raise refuse("The page stopped arriving.") from None
        except (OSError, http.client.HTTPException):
            raise refuse("The page stopped arriving.") from None
        if not chunk:
            break
        if encoding in ("gzip", "deflate"):
            try:
                chunk = inflate.decompress(chunk, limit + 1 - len(body))
            except zlib.error:
                raise refuse("The page's compressed body is damaged.") from None
        body += chunk
        if len(body) > limit:
            size = filesizeformat(limit).replace("\xa0", " ")
            raise refuse(f"The page is larger than {size}, the most Marginalia fetches.")
    return _decoded(bytes(body), response.getheader("Content-Type") or "")


def _decoded(body: bytes, content_type: str) -> str:
    """The body as text, in the charset the header or the page's <meta> names (else UTF-8)."""
    named = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", content_type, re.IGNORECASE)
    charset = named[1] if named else None
    if charset is None and (meta := _CHARSET.search(body[:4096])):
        charset = meta[1].decode("ascii")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")
