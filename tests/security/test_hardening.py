"""Production settings, the Content-Security-Policy, sign-in throttling and error pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import PASSWORD

ROOT = Path(settings.BASE_DIR)


def start(**env: str) -> subprocess.CompletedProcess:
    """Load the settings in a fresh process with these environment variables."""
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT, env={**clean, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


# --- Production refuses to start unsafely ----------------------------------------------------


def test_production_refuses_the_placeholder_secret():
    result = start(DEBUG="false", ALLOWED_HOSTS="marginalia.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize(
    "hosts", ["marginalia.example.org", "*", "10.0.0.5", "127.0.0.1,.example.org"]
)
def test_debug_on_a_public_host_refuses_to_start(hosts):
    result = start(DEBUG="true", ALLOWED_HOSTS=hosts)
    assert result.returncode != 0
    assert "DEBUG is on while ALLOWED_HOSTS names public hosts" in result.stderr


@pytest.mark.parametrize("hosts", ["localhost,127.0.0.1", "[::1],testserver", "app.localhost"])
def test_debug_on_this_machine_only_starts(hosts):
    result = start(DEBUG="true", ALLOWED_HOSTS=hosts)
    assert result.returncode == 0, result.stderr


def test_production_settings_pass_djangos_deployment_checks():
    env = {
        "DEBUG": "false", "SECRET_KEY": "x" * 60 + "-a-real-secret-from-the-environment",
        "ALLOWED_HOSTS": "marginalia.example.org", "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true",
    }  # fmt: skip
    # The browser tests' switch for Playwright's event loop is never set in production.
    unsafe = ("DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    clean = {k: v for k, v in os.environ.items() if k not in unsafe}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_cookies_are_secure_and_hsts_is_on():
    code = (
        "from django.conf import settings as s;"
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_HTTPONLY,"
        " s.SECURE_HSTS_SECONDS)"
    )
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
    env = {**clean, "DEBUG": "false", "SECRET_KEY": "s" * 64, "ALLOWED_HOSTS": "example.org",
           "DJANGO_SETTINGS_MODULE": "config.settings"}  # fmt: skip
    result = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.stdout.split() == ["True", "True", "True", "31536000"], result.stderr


# --- Content-Security-Policy -------------------------------------------------------------------


def test_every_page_carries_a_strict_content_security_policy(client, db):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def directives_of(response) -> dict[str, set[str]]:
    policy = response["Content-Security-Policy"]
    return {name: set(values) for name, *values in (part.split() for part in policy.split(";"))}


def test_the_hypothesis_sidebar_alone_may_be_framed_and_its_scripts_stay_strict(client, db):
    """The client frames `app.html` in whatever page it annotates, and KaTeX (the sidebar's
    maths) writes inline styles: those two allowances, and nothing more."""
    response = client.get(reverse("hypothesis-app"))
    directives = directives_of(response)
    assert directives.pop("frame-ancestors") == {"*"}
    assert directives.pop("style-src") == {"'self'", "'unsafe-inline'"}
    assert "X-Frame-Options" not in response
    strict = directives_of(client.get(reverse("login")))
    del strict["frame-ancestors"], strict["style-src"]
    assert directives == strict and directives["script-src"] == {"'self'"}
    assert "unsafe-eval" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "page",
    ["login", "home", "hypothesis-start", "web-capture", "hypothesis-authorize",
     "library-detail", "source-detail", "api-source-list", "hypothesis-api-index"],
)  # fmt: skip
def test_every_other_page_refuses_to_be_framed(as_user, alice, source, page):
    args = {"library-detail": [source.library.slug], "source-detail": [source.pk]}.get(page, [])
    response = as_user(alice).get(reverse(page, args=args))
    assert response.status_code in (200, 400), response.status_code
    assert response["X-Frame-Options"] == "DENY"
    assert directives_of(response)["frame-ancestors"] == {"'none'"}


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_HANDLER = re.compile(r"<[^>]*\son[a-z]+\s*=", re.I)
INLINE_STYLE = re.compile(r"<[^>]*\sstyle\s*=", re.I)


def templates() -> list[Path]:
    return sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("path", templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_has_inline_script_handlers_or_styles(path):
    html = path.read_text()
    assert not INLINE_SCRIPT.search(html), "inline <script>: move it to static/js"
    assert not INLINE_HANDLER.search(html), "an on…= handler: attach it from static/js"
    assert not INLINE_STYLE.search(html), "a style= attribute: use a class in static/css"


def test_no_script_sets_inline_style_attributes_or_evaluates_strings():
    for path in sorted((ROOT / "static" / "js").rglob("*.js")):
        code = path.read_text()
        assert not re.search(r"setAttribute\(\s*[\"']style", code), path
        assert not re.search(r"\beval\(|new Function\(|setTimeout\(\s*[\"'`]", code), path


# --- Sign-in throttling ---------------------------------------------------------------


def sign_in(client: Client, password: str, address: str = "192.0.2.10"):
    return client.post(
        reverse("login"), {"username": "alice", "password": password}, REMOTE_ADDR=address
    )


def test_repeated_failed_sign_ins_lock_that_name_from_that_address(alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        assert sign_in(client, "wrong").status_code in (200, 429)
    locked = sign_in(client, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    elsewhere = sign_in(Client(), PASSWORD, address="198.51.100.7")
    assert elsewhere.status_code == 302  # a colleague elsewhere is not locked out


def test_a_successful_sign_in_resets_the_count(alice, settings):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    sign_in(client, "wrong")
    sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302
    client.logout()
    sign_in(client, "wrong")
    sign_in(client, "wrong")
    assert sign_in(client, PASSWORD).status_code == 302


# --- Password reset: the same answer, in the same time, for any address ----------------------


class SleepingMailServer(BaseEmailBackend):
    """A mail server that takes two seconds to accept a message; it notes what it was sent
    and from which thread."""

    delay = 2.0
    sent: list[tuple[EmailMessage, str]] = []

    def send_messages(self, messages):
        time.sleep(self.delay)
        SleepingMailServer.sent += [(message, threading.current_thread().name)
                                    for message in messages]  # fmt: skip
        return len(messages)


def finish_sending() -> None:
    for thread in threading.enumerate():
        if thread.name == "password-reset-mail":
            thread.join(timeout=10)


@pytest.fixture
def slow_mail(settings):
    settings.EMAIL_BACKEND = "tests.security.test_hardening.SleepingMailServer"
    SleepingMailServer.sent = []
    yield SleepingMailServer.sent
    finish_sending()


def ask_for_reset(client: Client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def test_the_reset_answer_does_not_wait_for_the_mail_server(alice, slow_mail):
    started = time.monotonic()
    response = ask_for_reset(Client(), "alice@example.org")
    assert time.monotonic() - started < SleepingMailServer.delay / 2
    assert response.status_code == 302 and response["Location"] == reverse("password_reset_done")
    assert slow_mail == []  # not sent yet: the server is still answering
    finish_sending()
    [(message, thread)] = slow_mail
    assert message.to == ["alice@example.org"] and thread == "password-reset-mail"
    link = re.search(r"https?://testserver(/accounts/reset/\S+/)", message.body)[1]
    follow = Client().get(link, follow=True)
    assert "new_password1" in follow.content.decode()  # the token in the mail is good


@pytest.mark.parametrize("email", ["nobody@example.org", "ALICE@example.org"])
def test_an_unknown_address_does_the_same_work_and_gets_the_same_answer(alice, email, settings):
    def work(address: str):
        with CaptureQueriesContext(connection) as queries:
            response = ask_for_reset(Client(), address)
        templates = [template.name for template in response.templates]
        return response.status_code, response["Location"], len(queries), templates

    registered = work("alice@example.org")
    assert work(email) == registered
    assert "registration/password_reset_email.html" in registered[3]  # a mail rendered for both


def test_nobody_is_mailed_for_an_unknown_or_unusable_address(alice, bob, slow_mail):
    bob.set_unusable_password()
    bob.save()
    started = time.monotonic()
    for email in ("nobody@example.org", "bob@example.org"):
        assert ask_for_reset(Client(), email).status_code == 302
    assert time.monotonic() - started < SleepingMailServer.delay
    finish_sending()
    assert slow_mail == []


# --- Error pages ------------------------------------------------------------------------


@pytest.fixture
def broken_home(monkeypatch, settings):
    """The home page raises, as a bug would, with DEBUG off."""
    settings.DEBUG = False

    class Broken:
        class objects:
            @staticmethod
            def visible_to(user):
                raise RuntimeError("secret internals: /srv/marginalia/settings.py line 42")

    monkeypatch.setattr("sources.views.Library", Broken)


def test_a_server_error_shows_a_friendly_page_without_a_trace(broken_home, db):
    client = Client(raise_request_exception=False)
    response = client.get(reverse("home"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert "secret internals" not in html and "Traceback" not in html


def test_a_server_error_under_the_api_answers_json(db, settings, monkeypatch):
    settings.DEBUG = False

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("sources.api.filter_sources", boom)
    response = Client(raise_request_exception=False).get("/api/sources/")
    assert response.status_code == 500
    assert response.json() == {
        "detail": "Something went wrong on our side. It has been logged; try again later."
    }


def test_a_forged_host_gets_a_400_naming_no_internals(db, settings):
    settings.DEBUG = False
    response = Client().get("/", HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert "could not be read" in response.content.decode()
    assert "ALLOWED_HOSTS" not in response.content.decode()


def test_unknown_pages_and_forbidden_actions_have_friendly_pages(as_user, library, source, vera):
    missing = as_user(vera).get("/no/such/page/")
    assert missing.status_code == 404
    assert "This page is not here" in missing.content.decode()
    forbidden = as_user(vera).post(reverse("source-delete", args=[source.pk]))
    assert forbidden.status_code == 403
    assert "You cannot do this here" in forbidden.content.decode()


# --- Values no column can hold -------------------------------------------------------------


def test_a_nul_character_in_a_query_parameter_is_refused_by_name(as_user, library, alice):
    response = as_user(alice).get("/api/sources/", {"q": "Mao\x00"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("q contains a NUL character")


def test_a_nul_character_in_a_json_body_is_refused_before_anything_is_written(
    as_user, library, bob
):
    from sources.models import Source

    response = as_user(bob).post(
        "/api/sources/", {"library": library.slug, "title": "Cable\x00"}, format="json"
    )
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]
    assert not Source.objects.exists()


def test_a_nul_character_in_a_form_is_refused_on_the_page(as_user, library, bob):
    from urllib.parse import urlencode

    url = reverse("source-create", args=[library.slug])
    body = urlencode({"title": "Cable\x00", "csl_type": "letter"})
    response = as_user(bob).post(url, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "title contains a NUL character" in response.content.decode()


def test_a_number_past_64_bits_never_reaches_the_database_raw(as_user, library, alice):
    """The filter refuses it by name on every database: the safety net in config/security.py
    is not what answers (its message is a different one)."""
    response = as_user(alice).get("/api/annotations/", {"text": "1" + "0" * 30})
    assert response.status_code == 400
    assert response.json() == {"text": [f"Ensure this value is less than or equal to {2**63 - 1}."]}


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/source-links/", "subject"),
        ("/api/evidence/", "claim"),
        ("/api/evidence/", "annotation"),
        ("/api/claims/from-highlight/", "annotation"),
    ],
)
@pytest.mark.parametrize("number", [10**30, -(10**30)])
def test_an_id_past_64_bits_in_a_json_body_is_refused_by_name(
    as_user, library, bob, url, field, number
):
    response = as_user(bob).post(url, {field: number}, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def integer_query_parameters() -> list[tuple[str, str, dict]]:
    """(path, name, schema) of every integer query parameter the API schema lists."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, parameter["name"], parameter["schema"])
        for path, operations in schema["paths"].items()
        for parameter in operations.get("get", {}).get("parameters", [])
        if parameter["in"] == "query" and parameter["schema"].get("type") == "integer"
    ]


CONTEXT = {"/api/export/": {"format": "ris"}}  # the other parameters a list needs
W3C = {"HTTP_ACCEPT": "application/ld+json"}  # ?page= pages the W3C container


def test_every_integer_query_parameter_refuses_bad_numbers_by_name(as_user, library, alice):
    """Past 64 bits, below its minimum, or not a number: a 400 naming the parameter, the
    same on SQLite and PostgreSQL, for each integer parameter of every list."""
    make_everything(library, alice)
    client = as_user(alice)
    checked = 0
    for path, name, schema in integer_query_parameters():
        if "{" in path:
            continue  # lists under an object (a source's texts) are covered by the flat ones
        bad = ["1" + "0" * 30, str(2**63), "seven"]
        if "minimum" in schema:
            bad.append(str(schema["minimum"] - 1))
        for value in bad:
            params = {**CONTEXT.get(path, {"library": library.slug}), name: value}
            response = client.get(path, params, **(W3C if name == "page" else {}))
            assert response.status_code == 400, (path, name, value, response.content)
            assert name in response.json() or response.json()["detail"].startswith(name), (
                path, name, value, response.json(),
            )  # fmt: skip
            checked += 1
    assert checked > 60


def make_everything(library, alice) -> None:
    """A row of each kind, so that no list answers early for being empty."""
    from tests.factories import make_annotation, make_claim, make_event, make_source, make_text

    text = make_text(source=make_source(library=library), text="Mao said the treaty mattered.")
    make_annotation(text=text, creator=alice, quote="treaty")
    make_claim(library=library, creator=alice)
    make_event(library=library, creator=alice)
