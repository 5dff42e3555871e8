"""Browser tests: Playwright for Python driving Debian's Chromium, never a downloaded one.

Without Chromium they are skipped with a visible reason; under CI=true they fail instead.
"""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from django.conf import settings
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test import Client
from django.test.testcases import LiveServerThread

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# The ORM is called from test code while Playwright's event loop runs in the same thread.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class _OneRequestAtATime(ThreadedWSGIServer):
    """The live server, answering one request at a time. On in-memory SQLite every thread
    shares one connection, and two requests at once (a page fetching its text's chunks in
    parallel) would interleave their transactions ("no such savepoint"). Connections stay
    threaded, so a browser's kept-alive connection never blocks another's."""

    _lock = threading.Lock()

    def set_app(self, application):
        def one_at_a_time(environ, start_response):
            with self._lock:
                return application(environ, start_response)

        super().set_app(one_at_a_time)


LiveServerThread.server_class = _OneRequestAtATime


def _need_chromium() -> None:
    if os.path.exists(CHROMIUM):
        return
    reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: browser tests are mandatory in CI")
    pytest.skip(reason)


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser():
    _need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.js_errors = errors
    yield page
    context.close()
    # A request the page sent before it closed may still be running in the live server's
    # thread; the database is flushed after this fixture, so wait for it to end (on
    # in-memory SQLite, a flush beside it fails with "no such savepoint").
    with _OneRequestAtATime._lock:
        pass


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, user): give the browser a session cookie for `user`."""

    def _sign_in(page, user) -> None:
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        page.context.add_cookies(
            [{"name": cookie.key, "value": cookie.value, "url": live_server.url}]
        )

    return _sign_in
