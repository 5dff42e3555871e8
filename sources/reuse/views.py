"""Pages of text-reuse detection: the passages a source shares with the library, the
paragraphs of a compilation attributed to their originals, the other occurrences of a
highlighted passage, and recording what they show as a source link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.http import login_if_hidden
from sources.access import get_source_for_user
from sources.models import Source
from sources.reuse import reports
from sources.reuse.forms import PassageForm, RecordLinkForm, ReuseOptionsForm


@require_GET
@login_if_hidden
def source_reuse(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    form = ReuseOptionsForm(request.GET, source=source)
    if not form.is_valid():
        return _render_reuse(request, source, form, status=400)
    return _render_reuse(
        request, source, form, report=reports.report(form.text, min_words=form.shortest)
    )


def _render_reuse(
    request: HttpRequest,
    source: Source,
    form: ReuseOptionsForm,
    *,
    report: reports.Report | None = None,
    link_form: RecordLinkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "source": source,
        "library": source.library,
        "form": form,
        "report": report,
        "link_form": link_form,
        "can_edit": source.library.can_edit(request.user),
    }
    return render(request, "sources/reuse/source.html", context, status=status)


@require_GET
@login_if_hidden
def compilation(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    form = ReuseOptionsForm(request.GET, source=source)
    context = {"source": source, "library": source.library, "form": form}
    if not form.is_valid():
        return render(request, "sources/reuse/compilation.html", context, status=400)
    context["attribution"] = reports.attribute(form.text, min_words=form.shortest)
    return render(request, "sources/reuse/compilation.html", context)


@require_GET
@login_if_hidden
def passage(request: HttpRequest, pk: int) -> HttpResponse:
    """Other occurrences of a highlighted passage; `fragment=1` answers with the results
    alone, for the source page's script to insert."""
    source = get_source_for_user(request.user, pk)
    form = PassageForm(request.GET, source=source)
    template = (
        "sources/reuse/passage_results.html"
        if request.GET.get("fragment")
        else "sources/reuse/passage.html"
    )
    context = {"source": source, "library": source.library, "form": form}
    if not form.is_valid():
        return render(request, template, context, status=400)
    data = form.cleaned_data
    context["found"] = reports.passage_report(
        form.text, data["start"], data["end"], min_words=form.shortest
    )
    return render(request, template, context)


@require_POST
@login_required
def record_link(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk, write=True)
    form = RecordLinkForm(request.POST, source=source)
    if not form.is_valid():
        return _render_reuse(request, source, form, link_form=form, status=400)
    data = form.cleaned_data
    try:
        link, added = reports.record_link(
            form.text,
            data["other_text"],
            relation=data["relation"],
            borrower=data["borrower"],
            user=request.user,
            min_words=form.shortest,
        )
    except reports.NothingShared:
        form.add_error("other_text", "The two texts share no passage this long any more.")
        return _render_reuse(request, source, form, link_form=form, status=400)
    messages.success(
        request,
        f"Recorded: “{link.subject}” {link.get_relation_display()} “{link.object}”, "
        f"with {added} passage{'s' * (added != 1)} as evidence.",
    )
    return redirect(_next_url(request, data["next"], source))


def _next_url(request: HttpRequest, wanted: str, source: Source) -> str:
    if wanted and url_has_allowed_host_and_scheme(
        wanted, {request.get_host()}, request.is_secure()
    ):
        return wanted
    return reverse("reuse-source", args=[source.pk])
