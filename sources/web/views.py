"""*Save to Marginalia*: the window the bookmarklet opens on Marginalia's own origin.

The bookmarklet (on the page being read) opens this window and, once it says it is ready,
hands it the page (address, title, HTML) by `postMessage` to this origin only; the reader
chooses a library and keywords and saves. A page the library already holds is shown first
(which source, when last captured, whether its text has changed), and nothing is written
until the reader chooses: a new revision of that source (the default), a separate source,
or cancel. The page is first-party here, so the reader's
session and CSRF token work even where the browser blocks third-party cookies.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from sources.models import Library
from sources.web.capture import Captured, capture_page, existing_source, held_page


class CaptureForm(forms.Form):
    library = forms.ModelChoiceField(queryset=Library.objects.none(), empty_label=None)
    url = forms.URLField(max_length=2000, assume_scheme="https")
    html = forms.CharField(strip=False)
    keywords = forms.CharField(required=False, max_length=2000, help_text="Comma-separated.")
    # Empty on the first Save: a page the library holds is shown, and the reader chooses.
    held = forms.ChoiceField(
        required=False,
        widget=forms.RadioSelect,
        choices=[("revision", "Add it as a new revision of that source"),
                 ("separate", "Save it as a separate source")],
    )  # fmt: skip

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["library"].queryset = Library.objects.editable_by(user).order_by("name")


@login_required
@require_http_methods(["GET", "POST"])
def capture(request: HttpRequest) -> HttpResponse:
    form = CaptureForm(request.POST or None, user=request.user)
    held = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            held = None if data["held"] else held_page(data["library"], url=data["url"],
                                                       html=data["html"])  # fmt: skip
            if held is None:
                kept = _kept(data, request.user)
                return _popup(render(request, "sources/web/captured.html", {"kept": kept}))
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
    status = 400 if form.errors else 200
    context = {"form": form, "libraries": form.fields["library"].queryset, "held": held}
    if request.method == "POST" and form.is_bound and "library" in form.cleaned_data:
        data = form.cleaned_data
        context["existing"] = existing_source(data["library"], data.get("url", ""), "")
    return _popup(render(request, "sources/web/capture.html", context, status=status))


def _kept(data: dict, user) -> Captured:
    """The page saved as the reader chose: into the source holding it, or a new one."""
    keywords = [k.strip() for k in data["keywords"].split(",") if k.strip()]
    return capture_page(data["library"], url=data["url"], html=data["html"], user=user,
                        keywords=keywords, separate=data["held"] == "separate")  # fmt: skip


def _popup(response: HttpResponse) -> HttpResponse:
    """Opened by another site's page, which hands it the page: the opener must be kept."""
    response["Cross-Origin-Opener-Policy"] = "unsafe-none"
    return response
