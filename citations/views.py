"""Export and citation pages: choose a selection, format, style and locale; preview the
bibliography; download the file; cite a source, a passage or a claim's evidence.

Thin views over `citations.selection` (the same rules as the API): a selection the
user cannot see is a 404 (anonymous visitors are asked to sign in), a malformed
parameter re-renders the form with a 400 naming it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from annotations.access import get_annotation_for_user
from annotations.claims.access import get_claim_for_user
from citations import engine, exports
from citations.jobs import EXPORT
from citations.notes import NOTES_FORMAT_NAMES
from citations.options import (
    CONTENTS,
    FORMAT_NAMES,
    ExportOptions,
    citation_options,
    export_file,
    export_options,
    job_params,
    locator_option,
    preview,
    runs_as_job,
)
from citations.passages import Locator, cite_annotation, cite_claim, pandoc_citation
from citations.selection import (
    SELECTION_FIELDS,
    ExportRequestError,
    Selection,
    select_from_params,
)
from citations.templatetags.citation_export import SEARCH_EXPORT_FORMATS
from core.http import login_if_hidden
from jobs import queue
from jobs.models import Job
from search.engine import require_libraries, result_source_ids
from search.query import parse_params
from sources.access import get_source_for_user
from sources.models import Library, Source

PREVIEW_LIMIT = 1000
SELECTION_PARAMS = (*SELECTION_FIELDS, "ids", "source")


def style_context(data: Any, errors: dict[str, str] | None = None) -> dict[str, Any]:
    """What the style and locale fields need: the chosen values, built-ins, locales."""
    style = str(data.get("style") or engine.DEFAULT_STYLE).strip()
    return {
        "style": style,
        "style_title": _style_title(style),
        "locale": _locale(data.get("locale")),
        "builtin_styles": [(s, engine.style_title(s)) for s in engine.BUILTIN_STYLES],
        "locales": engine.LOCALES,
        "errors": errors or {},
        "attribution": exports.ATTRIBUTION,
    }


def _locale(value: Any) -> str:
    try:
        return engine.resolve_locale(str(value or "").strip() or None)
    except ValueError:
        return str(value)


def _style_title(style: str) -> str:
    try:
        return engine.style_title(style)
    except ValueError:
        return ""


# --- Export ----------------------------------------------------------------------------


@require_GET
@login_if_hidden
def export_page(request: HttpRequest) -> HttpResponse:
    """The export form for a selection; without one, a choice of libraries."""
    if not any(request.GET.get(name) for name in SELECTION_PARAMS):
        libraries = Library.objects.visible_to(request.user).order_by("name")
        return render(request, "citations/choose.html", {"libraries": libraries})
    return _render_form(request, errors={})


@require_GET
@login_if_hidden
def export_download(request: HttpRequest) -> HttpResponse:
    """The file, or for a large formatted export the job that makes it (its page shows the
    progress and offers the file). A GET that starts a job is safe to repeat: each click
    is a new job of the same export."""
    try:
        selection = select_from_params(request.user, request.GET)
        options = export_options(request.GET)
        if runs_as_job(selection, options):
            return redirect(_enqueue_export(request, selection, options))
        return export_file(request.user, selection, options).response()
    except ExportRequestError as error:
        return _render_form(request, errors={error.field: error.message}, status=400)


def _enqueue_export(request: HttpRequest, selection: Selection, options: ExportOptions) -> Job:
    if not request.user.is_authenticated:
        raise ExportRequestError(
            "library", "Sign in to export this many sources: it is made in the background."
        )
    params = job_params(selection, options)
    return queue.enqueue(EXPORT, library=selection.library, user=request.user, **params)


@require_GET
@login_if_hidden
def export_preview(request: HttpRequest) -> HttpResponse:
    """The bibliography, the notes or the research-notes document, in the page."""
    data = request.GET.copy()
    data["format"] = "html"  # a preview is HTML whichever file format is chosen
    try:
        selection = select_from_params(request.user, data)
        options = export_options(data)
        context = preview(request.user, selection, options, limit=PREVIEW_LIMIT)
    except ExportRequestError as error:
        return _render_form(request, errors={error.field: error.message}, status=400)
    context |= style_context(request.GET) | {"selection": selection, "options": options}
    query = request.GET.copy()
    query.setdefault("format", "html")
    context["query"] = query.urlencode()
    return render(request, "citations/preview.html", context)


def _render_form(request: HttpRequest, *, errors: dict[str, str], status: int = 200):
    """The export form; a bad selection is reported on it (without the form)."""
    selection = None
    try:
        selection = select_from_params(request.user, request.GET)
    except ExportRequestError as error:
        errors = errors or {error.field: error.message}
        status = 400
    content = request.GET.get("content") if request.GET.get("content") in CONTENTS else None
    context = style_context(request.GET, errors) | {
        "selection": selection,
        "selection_fields": selection.params if selection else {},
        "content": content or "bibliography",
        "contents": CONTENTS,
        "format": request.GET.get("format") or "html",
        "formatted_formats": [(f, n) for f, n in FORMAT_NAMES.items() if f in exports.FORMATTED],
        "file_formats": [(f, n) for f, n in FORMAT_NAMES.items() if f not in exports.FORMATTED],
        "document_formats": NOTES_FORMAT_NAMES,
    }
    return render(request, "citations/export.html", context, status=status)


# --- Citing ----------------------------------------------------------------------------


@require_GET
@login_if_hidden
def source_cite(request: HttpRequest, pk: int) -> HttpResponse:
    """A source's full note, short note and bibliography entry, for a passage if given."""
    source = get_source_for_user(request.user, pk)
    context: dict[str, Any] = {"source": source, "library": source.library}
    try:
        options = html_options(request.GET)
        locator, label = locator_option(request.GET)
    except ExportRequestError as error:
        context |= style_context(request.GET, {error.field: error.message})
        return render(request, "citations/cite_source.html", context, status=400)
    style = {"style": options.style, "locale": options.locale}
    notes = engine.citation_for_source(source, locator=locator, label=label, **style)
    [(_, entry)] = engine.bibliography_for_sources([source], **style)
    context |= style_context(request.GET) | {
        "full_note": notes[0],
        "short_note": notes[1],
        "entry": entry,
        "pandoc": pandoc_citation(
            source.citation_key, Locator(locator, label) if locator else None, lang=options.locale
        ),
        "locator": locator or "",
        "label": label,
        "labels": engine.LOCATOR_LABELS,
    }
    return render(request, "citations/cite_source.html", context)


@require_GET
@login_if_hidden
def annotation_cite(request: HttpRequest, pk: int) -> HttpResponse:
    """The footnote for a highlighted passage, with copy buttons."""
    annotation = get_annotation_for_user(request.user, pk)
    source = annotation.text.source
    context: dict[str, Any] = {"annotation": annotation, "source": source}
    try:
        options = html_options(request.GET)
    except ExportRequestError as error:
        context |= style_context(request.GET, {error.field: error.message})
        return render(request, "citations/cite_passages.html", context, status=400)
    cited = cite_annotation(annotation, style=options.style, locale=options.locale)
    context |= style_context(request.GET) | {"passages": [(None, cited)]}
    context["library"] = source.library
    return render(request, "citations/cite_passages.html", context)


@require_GET
@login_if_hidden
def claim_cite(request: HttpRequest, pk: int) -> HttpResponse:
    """Footnotes for every quotation brought as evidence for a claim."""
    claim = get_claim_for_user(request.user, pk)
    context: dict[str, Any] = {"claim": claim, "library": claim.library}
    try:
        options = html_options(request.GET)
    except ExportRequestError as error:
        context |= style_context(request.GET, {error.field: error.message})
        return render(request, "citations/cite_passages.html", context, status=400)
    passages = cite_claim(claim, request.user, style=options.style, locale=options.locale)
    context |= style_context(request.GET) | {"passages": passages}
    return render(request, "citations/cite_passages.html", context)


def html_options(query: Any) -> ExportOptions:
    """Citation options of a page: the note is shown as HTML whatever `format` says."""
    return citation_options({key: query.get(key) for key in query} | {"format": "html"})


@require_GET
def search_export(request: HttpRequest) -> HttpResponse:
    """Every result's sources, as a citation file (RIS, BibLaTeX, CSL-JSON, a bibliography)."""
    fmt = request.GET.get("format", "ris")
    try:
        if fmt not in SEARCH_EXPORT_FORMATS:
            raise ValidationError({"format": f"Give one of {', '.join(SEARCH_EXPORT_FORMATS)}."})
        query = parse_params(request.GET)
        require_libraries(request.user, query)
        ids = result_source_ids(request.user, query)
    except ValidationError as error:
        lines = (f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
        return HttpResponse("\n".join(lines), status=400, content_type="text/plain")
    sources = Source.objects.filter(pk__in=ids).prefetch_related("creators")
    order = {pk: n for n, pk in enumerate(ids)}
    body = exports.export_sources(sorted(sources, key=lambda s: order[s.pk]), fmt)
    response = HttpResponse(body, content_type=exports.CONTENT_TYPES[fmt])
    name = exports.export_filename(query.text.raw or "search-results", fmt)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
