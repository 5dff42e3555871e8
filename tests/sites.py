"""A web site on 127.0.0.1 for tests that need pages of another origin: each path answers
what the test puts in `site.pages` (status, headers, body; or a function of the handler)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Answer = tuple[int, dict[str, str], bytes] | Callable[[BaseHTTPRequestHandler], None]


class Site:
    def __init__(self) -> None:
        self.pages: dict[str, Answer] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                site.requests.append(self.path)
                answer = site.pages.get(self.path.split("?")[0])
                if answer is None:
                    answer = (404, {"Content-Type": "text/plain"}, b"not here")
                if callable(answer):
                    return answer(self)
                status, headers, body = answer
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.origin + path

    def html(self, path: str, body: str, **headers: str) -> str:
        """Serve `body` as an HTML page at `path`; its address."""
        self.pages[path] = (200, {"Content-Type": "text/html; charset=utf-8", **headers},
                            body.encode())  # fmt: skip
        return self.url(path)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
