"""The account page for personal API tokens: create (the key shown once), list, revoke."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from sources import tokens


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What will use it: “Zotero sync”, “laptop”.")
    read_only = forms.BooleanField(
        required=False, label="Read-only", help_text="It can read but never change anything."
    )
    expires = forms.TypedChoiceField(
        choices=tokens.EXPIRY_CHOICES, coerce=int, empty_value=None, required=False
    )


def _page(request: HttpRequest, form: TokenForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "tokens": tokens.tokens_of(request.user)}
    return render(request, "sources/token_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache  # the page that shows a new key must not stay in any cache
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    try:
        token, key = tokens.create_token(
            request.user, name=data["name"], read_only=data["read_only"],
            expires_in_days=data["expires"],
        )  # fmt: skip
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _page(request, form, status=400)
    return render(request, "sources/token_created.html", {"token": token, "key": key}, status=201)


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens.revoke_token(request.user, pk)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("token-list")
