"""Sign-in inside the Hypothesis client's popup keeps the popup's `window.opener`.

The popup opens `/hypothesis/oauth/authorize`, which sends one who is not signed in to the
sign-in page with `next` pointing back. Django's default Cross-Origin-Opener-Policy
(same-origin) on that page would sever the popup from the sidebar that opened it (the
sidebar is framed in another site's page), and the code could never reach it. The same
holds for *Save to Marginalia*'s window (`sources.web`), which the page being read hands
itself to. Only the sign-in page, only on those ways, is sent with `unsafe-none`.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse


class KeepOpenerForSignIn:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path == reverse(settings.LOGIN_URL):
            wanted = request.POST.get("next", "") or request.GET.get("next", "")
            if wanted.startswith((reverse("hypothesis-authorize"), reverse("web-capture"))):
                response["Cross-Origin-Opener-Policy"] = "unsafe-none"
        return response
