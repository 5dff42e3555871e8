"""Helpers the pages of every package share: sign-in for hidden pages, history pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from core import history


def login_if_hidden(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """For anonymous visitors a page they cannot see asks them to sign in (a private
    library may be theirs); signed-in users get the 404. Nothing is revealed either way."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except Http404:
            if request.user.is_authenticated:
                raise
            return redirect_to_login(request.get_full_path())

    return wrapper


def history_page(
    request: HttpRequest,
    obj: Model,
    *,
    name: str,
    can_revert: bool,
    status: int = 200,
    error: str = "",
) -> HttpResponse:
    """The history page of `obj` (`core.history`), for the routes `<name>-history` and
    `<name>-history-revert` of the package that owns it."""
    library = obj.library if hasattr(obj, "library") else obj.text.source.library
    context = {
        "object": obj,
        "library": library,
        "can_revert": can_revert,
        "entries": history.entries(obj, can_revert=can_revert, viewer=request.user),
        "error": error,
        "back": history.page_of(obj),
        "revert_name": f"{name}-history-revert",
    }
    return render(request, "core/history.html", context, status=status)


def history_revert(
    request: HttpRequest, obj: Model, history_id: int, *, name: str, can_revert: bool
) -> HttpResponse:
    """Restore `obj` to a recorded version and go back to its history (a 403 for who may
    only read it, the page again with a 400 for a version that cannot be restored)."""
    if not can_revert:
        raise PermissionDenied("You may read this history but not revert it.")
    try:
        history.revert(obj, history_id, user=request.user)
    except ValidationError as error:
        message = " ".join(error.messages)
        return history_page(request, obj, name=name, can_revert=True, status=400, error=message)
    messages.success(request, "Reverted. The revert is itself a change you can undo.")
    return redirect(f"{name}-history", pk=obj.pk)
