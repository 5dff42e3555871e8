"""Security glue that settings and urls point to: the login throttle's backend, the
password reset form that answers alike for any address, the error handlers that never show
a stack trace, and the checks that keep a value no database column can hold (a NUL
character, a number past 64 bits) from reaching a query."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

from axes.backends import AxesStandaloneBackend
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.template.exceptions import TemplateDoesNotExist

from core.api import INT64_MAX

logger = logging.getLogger("marginalia.security")


class LoginThrottleBackend(AxesStandaloneBackend):
    """django-axes' lockout check for sign-ins over HTTP.

    Authentication without a request (the test client's `login`, `manage.py` commands, a
    shell) is not an attempt from the network, so there is nothing to throttle: the check
    steps aside and the next backend (ModelBackend) decides."""

    def authenticate(self, request: HttpRequest | None, *args, **kwargs) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


class SameTimePasswordResetForm(PasswordResetForm):
    """Django's password reset, answering in the same time whether or not the address is
    registered, so that the answer does not tell (it took 16 times longer for a registered
    one: the mail was sent in the request).

    The same work for both: when nobody may reset a password with the address, a stand-in
    user (never saved) gets a token and a rendered mail that is then dropped. And no mail
    is sent in the request: a real one goes after the response (`send_after_response`)."""

    stand_in = False

    def get_users(self, email: str) -> Iterable[Any]:
        users = list(super().get_users(email))
        self.stand_in = not users
        return users or [stand_in_user(email)]

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Rendered as Django's own send_mail renders it; only the sending moves.
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        message = EmailMultiAlternatives(subject, body, from_email, [to_email])
        if html_email_template_name is not None:
            html = loader.render_to_string(html_email_template_name, context)
            message.attach_alternative(html, "text/html")
        if not self.stand_in:
            send_after_response(message)


def stand_in_user(email: str) -> Any:
    """An unsaved active user with the address and an unusable password: what a token and
    a mail are made for when nobody has the address."""
    user = get_user_model()(is_active=True, **{get_user_model().get_email_field_name(): email})
    user.set_unusable_password()
    return user


def send_after_response(message: EmailMessage) -> None:
    """Send `message` once the response has been handed over (request_finished), from a
    thread of its own: not even a server that finishes the request before the client has
    read the answer (Django's test client does) waits for the mail server."""

    def start(**kwargs: Any) -> None:
        request_finished.disconnect(start)
        threading.Thread(target=_send, args=(message,), name="password-reset-mail").start()

    request_finished.connect(start, weak=False)


def _send(message: EmailMessage) -> None:
    try:
        message.send()
    except Exception:  # the mail server is down: logged, as Django's own form does
        logger.exception("A password reset mail could not be sent.")


def wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return request.path.startswith("/api/") or (
        "application/json" in accept and "text/html" not in accept
    )


def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    """handler500: a friendly page (JSON under /api/), never a trace. Rendered without a
    request context: whatever broke (the database, a context processor) must not break
    the error page too."""
    if wants_json(request):
        return JsonResponse(
            {"detail": "Something went wrong on our side. It has been logged; try again later."},
            status=500,
        )
    try:
        body = loader.get_template(template_name).render()
    except TemplateDoesNotExist:
        body = "<h1>Server error (500)</h1>"
    return HttpResponse(body, status=500)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400 (a forged Host header, a malformed request): named, never a trace."""
    message = "The request was malformed and could not be read."
    if wants_json(request):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(loader.get_template("400.html").render({"message": message}), status=400)


NUL_MESSAGE = "contains a NUL character (\\u0000), which text cannot hold"


class BadInputMiddleware:
    """A safety net under the forms and serializers: a value no database column can hold
    answers 400 naming the parameter, never 500.

    - a NUL character in a query parameter, form field or JSON body is refused up front
      (PostgreSQL cannot store it in text; SQLite would truncate at it);
    - a number past 64 bits that reached a query (SQLite: OverflowError; PostgreSQL:
      numeric value out of range) is reported by the parameter that carried it.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        where = nul_parameter(request)
        if where is not None:
            return refuse(request, f"{where} {NUL_MESSAGE}.")
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_out_of_range(exception):
            return None
        name = huge_number_parameter(request)
        what = f"{name}: the number" if name else "A number in the request"
        logger.warning("refused an out-of-range number: %s", exception)
        return refuse(request, f"{what} is too large (the largest is {INT64_MAX}).")


def nul_parameter(request: HttpRequest) -> str | None:
    for source in (request.GET, _form_data(request)):
        for name, values in source.lists():
            if "\x00" in name or any("\x00" in value for value in values):
                return name.replace("\x00", "\\u0000")
    if _is_json(request) and b"\\u0000" in request.body:
        return "The JSON body"
    return None


def _form_data(request: HttpRequest):
    content_type = request.content_type or ""
    if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
        return request.POST
    return request.GET.__class__()  # multipart fields are checked by their forms


def _is_json(request: HttpRequest) -> bool:
    return request.method not in ("GET", "HEAD") and "json" in (request.content_type or "")


def is_out_of_range(exception: Exception) -> bool:
    from django.db import DataError

    if isinstance(exception, OverflowError):
        return True
    cause = getattr(exception, "__cause__", None)
    return isinstance(exception, DataError) and getattr(cause, "sqlstate", "") == "22003"


def huge_number_parameter(request: HttpRequest) -> str | None:
    """The parameter (query or form) that holds a number past 64 bits, if one does."""
    for source in (request.GET, _form_data(request)):
        for name, values in source.lists():
            if any(_too_big(value) for value in values):
                return name
    return None


def _too_big(value: str) -> bool:
    digits = value.strip().lstrip("+-")
    return digits.isascii() and digits.isdigit() and int(digits) > INT64_MAX


def refuse(request: HttpRequest, message: str) -> HttpResponse:
    if wants_json(request):
        return JsonResponse({"detail": message}, status=400)
    return HttpResponse(loader.get_template("400.html").render({"message": message}), status=400)
