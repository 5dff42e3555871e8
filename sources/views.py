"""Server-rendered pages of the source library. Each view parses the request, calls one
function that does the work, and renders; access goes through `sources.access`."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, router, transaction
from django.db.models import Count, Model, Q, prefetch_related_objects
from django.db.models.deletion import Collector
from django.forms import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.http import history_page, history_revert, login_if_hidden
from core.uploads import UploadError
from jobs import queue
from jobs.models import Job
from sources import bulk, metadata_import
from sources.access import (
    get_import_for_user,
    get_library_for_user,
    get_link_for_user,
    get_source_for_user,
)
from sources.bulk import BulkForm
from sources.forms import (
    CompareForm,
    CreatorFormSet,
    EditConflict,
    LibraryForm,
    MetadataImportForm,
    SourceFilterForm,
    SourceForm,
    SourceLinkForm,
    TextRevisionForm,
    creator_rows,
    save_source_edit,
)
from sources.importers import import_text_revision
from sources.jobs import (
    IMPORT_METADATA,
    IMPORT_TEXT,
    IMPORT_ZOTERO_DATA,
    metadata_in_background,
    text_in_background,
)
from sources.metadata_import import import_metadata
from sources.models import (
    WRITE_ROLES,
    ImportFormat,
    ImportRun,
    Library,
    Membership,
    Role,
    Source,
    SourceKind,
    SourceLink,
    SourceText,
)
from sources.reading import change_count, compare_texts, reading_blocks

PAGE_SIZE = 50
RECENT_IMPORTS = 50
ROLE_ORDER = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}


def _posted(request: HttpRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _status(request: HttpRequest) -> int:
    """A form page shown again after a POST shows it because the input was invalid."""
    return 400 if request.method == "POST" else 200


def _upload_refused(
    request: HttpRequest, template: str, context: dict[str, Any], error: UploadError
) -> HttpResponse:
    """The upload form again, the importer's complaint on its field (413: too large)."""
    form = context["form"]
    form.add_error(error.field if error.field in form.fields else None, error.message)
    return render(request, template, context, status=error.status)


# Home and libraries


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return _render_home(request, LibraryForm())


def _render_home(request: HttpRequest, form: LibraryForm, status: int = 200) -> HttpResponse:
    libraries = Library.objects.visible_to(request.user).annotate(
        source_count=Count("sources", distinct=True)
    )
    roles = {}
    if request.user.is_authenticated:
        roles = dict(request.user.memberships.values_list("library_id", "role"))
    for library in libraries:
        library.my_role = roles.get(library.pk)
    context = {
        "mine": [lib for lib in libraries if lib.my_role],
        "public": [lib for lib in libraries if not lib.my_role],
        "form": form,
    }
    return render(request, "sources/home.html", context, status=status)


@require_POST
@login_required
def library_create(request: HttpRequest) -> HttpResponse:
    form = LibraryForm(request.POST)
    if not form.is_valid():
        return _render_home(request, form, status=400)
    library = form.save(owner=request.user)
    messages.success(request, f"Library “{library.name}” created.")
    return redirect(library)


@require_GET
@login_if_hidden
def library_detail(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    filters = SourceFilterForm(request.GET)
    valid = filters.is_valid()
    sources = filters.filter(library.sources.prefetch_related("creators")) if valid else []
    page = Paginator(sources, PAGE_SIZE).get_page(request.GET.get("page"))
    role = library.role_of(request.user)
    context = {
        "library": library,
        "filters": filters,
        "page": page,
        "move_targets": bulk.move_targets(request.user, library) if role in WRITE_ROLES else [],
        "page_range": page.paginator.get_elided_page_range(page.number),
        "counts": _kind_counts(library),
        # Who belongs to a library is for its members to see, not for public visitors.
        "members": _members(library) if role else [],
        "can_edit": role in WRITE_ROLES,
        "filtered": any(filters.data.get(name) for name in filters.fields if name != "sort"),
    }
    return render(request, "sources/library_detail.html", context, status=200 if valid else 400)


@require_POST
@login_required
def library_bulk(request: HttpRequest, slug: str) -> HttpResponse:
    """The library page's bulk actions on the selected sources: tag, move, export, delete.
    A move or a deletion first shows what goes with the sources (`confirm` absent)."""
    action = request.POST.get("action", "")
    library = get_library_for_user(request.user, slug, write=action != "export")
    form = BulkForm(request.POST, library=library, user=request.user)
    if not form.is_valid():
        context = {"library": library, "form": form, "here": "Selected sources"}
        return render(request, "sources/bulk_refused.html", context, status=400)
    chosen = form.cleaned_data["sources"]
    if action == "export":
        return redirect(f"{reverse('export')}?sources={','.join(str(s.pk) for s in chosen)}")
    if action == "tag":
        changed = bulk.tag_sources(chosen, form.cleaned_data["keywords"])
        messages.success(request, f"Keywords added to {changed} of {len(chosen)} sources.")
        return redirect(library)
    if "confirm" not in request.POST:
        return _bulk_confirm(request, library, form)
    return _bulk_apply(request, library, form)


def _bulk_confirm(request: HttpRequest, library: Library, form: BulkForm) -> HttpResponse:
    chosen, target = form.cleaned_data["sources"], form.cleaned_data["target"]
    moving = form.cleaned_data["action"] == "move"
    summary = bulk.move_summary(chosen) if moving else bulk.delete_summary(chosen)
    context = {"library": library, "summary": summary, "target": target, "here": "Confirm"}
    context["action"] = form.cleaned_data["action"]
    return render(request, "sources/bulk_confirm.html", context)


def _bulk_apply(request: HttpRequest, library: Library, form: BulkForm) -> HttpResponse:
    chosen, target = form.cleaned_data["sources"], form.cleaned_data["target"]
    if form.cleaned_data["action"] == "move":
        bulk.move_sources(chosen, library, target)
        messages.success(request, f"{len(chosen)} sources moved to “{target.name}”.")
        return redirect(target)
    deleted = bulk.delete_sources(chosen)
    messages.success(request, f"{deleted} source{'s' if deleted != 1 else ''} deleted.")
    return redirect(library)


def _kind_counts(library: Library) -> dict[str, int]:
    return library.sources.aggregate(
        total=Count("pk"),
        primary=Count("pk", filter=Q(kind=SourceKind.PRIMARY)),
        secondary=Count("pk", filter=Q(kind=SourceKind.SECONDARY)),
    )


def _members(library: Library) -> list[Membership]:
    memberships = library.memberships.select_related("user")
    return sorted(memberships, key=lambda m: (ROLE_ORDER[m.role], m.user.get_username().lower()))


# Sources


@require_GET
@login_if_hidden
def source_detail(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    return _render_source(request, source)


def _shown_revision(texts: list[SourceText], wanted: str | None) -> SourceText | None:
    """The revision asked for by ?revision=N, else the current one; 404 for an unknown N."""
    if wanted is None:
        return texts[-1] if texts else None
    shown = next((t for t in texts if str(t.revision) == wanted.strip()), None)
    if shown is None:
        raise Http404("No such revision.")
    return shown


def _render_source(
    request: HttpRequest,
    source: Source,
    *,
    link_form: SourceLinkForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_edit = source.library.can_edit(request.user)
    if can_edit and link_form is None:
        link_form = SourceLinkForm(subject=source, user=request.user)
    prefetch_related_objects([source], "creators")  # the byline and the metadata panel
    links = SourceLink.objects.visible_to(request.user)
    context = {
        "source": source,
        "library": source.library,
        "can_edit": can_edit,
        **_revision_context(request, source),
        "links_out": links.filter(subject=source).select_related("object"),
        "links_in": links.filter(object=source).select_related("subject"),
        "link_form": link_form,
    }
    return render(request, "sources/source_detail.html", context, status=status)


def _revision_context(request: HttpRequest, source: Source) -> dict[str, Any]:
    """The revisions of the text, newest first, and the one to read (?revision=, ?view=):
    its first FIRST_SCREEN_CHARS with the page, the rest streamed by the reading view."""
    texts = list(source.texts.select_related("imported_by").order_by("revision"))
    shown = _shown_revision(texts, request.GET.get("revision"))
    blocks = reading_blocks(shown, chars=FIRST_SCREEN_CHARS) if shown else []
    paragraphs = shown.paragraphs() if shown else []  # once: 15 ms for a 1 MB text
    window_end = _window_end(paragraphs, blocks)
    chunks = _chunks(paragraphs, len(blocks)) if window_end is not None else []
    return {
        "revisions": [(text, text.verify()) for text in reversed(texts)],
        "shown": shown,
        "is_current": shown is not None and shown == texts[-1],
        "blocks": blocks,
        "window_end": window_end,
        "chunks": chunks,
        "preloads": _preloads(shown, window_end),
        "original": request.GET.get("view") == "original" and shown is not None and shown.html,
    }


# The reading view sends this many code points of text with the page (a few screens: the
# first one painted at once), then the rest in chunks of READING_CHUNK_CHARS
# (`source_text_blocks`), so that a 1 MB text opens as fast as a short one. One chunk
# holds a 1 MB text's rest: five chunks of 200,000 took five of the browser's six
# connections to the server (HTTP/1.1) while the page's scripts waited for one (bench/
# reading.py: DOMContentLoaded 230 ms later); a chunk's JSON is at most ~6 MB.
FIRST_SCREEN_CHARS = 12_000
READING_CHUNK_CHARS = 2_000_000


def _preloads(shown: SourceText | None, window_end: int | None) -> list[str]:
    """What the reading view will fetch once it runs and the server takes longest over (the
    rest of the annotations), asked for while the page is still being read: the same
    address, so the browser hands the script what it preloaded. Not the rest of the
    paragraphs: gunicorn's worker took both requests on its two threads and the page's
    style sheets waited behind them (bench/reading.py: first screen 416 → 344 ms, every
    highlight 929 → 819 ms); the script asks for them at once, quickly answered."""
    if shown is None or window_end is None:
        return []
    return [f"{reverse('text-annotations', args=[shown.pk])}?after={window_end}"]


def _window_end(paragraphs: list[tuple[int, str]], blocks: list) -> int | None:
    """Where the text sent with the page ends, or None when it is the whole text."""
    if not blocks or len(blocks) == len(paragraphs):
        return None
    return blocks[-1].start + len(blocks[-1].text)


def _chunks(paragraphs: list[tuple[int, str]], sent: int) -> list[int]:
    """The first paragraph of each chunk of READING_CHUNK_CHARS after the `sent` ones: the
    reading view fetches them all at once and shows them in order."""
    starts, total = [], 0
    for index, (_, text) in enumerate(paragraphs[sent:], start=sent):
        if not starts or total + len(text) > READING_CHUNK_CHARS:
            starts.append(index)
            total = 0
        total += len(text)
    return starts


@require_GET
@login_if_hidden
def source_text_blocks(request: HttpRequest, pk: int) -> HttpResponse:
    """The reading view's paragraphs from `from` on (JSON), READING_CHUNK_CHARS at a time:
    {"blocks": [[start, text, [[offset in it, page label], …]], …], "next": index | null}."""
    source = get_source_for_user(request.user, pk)
    texts = list(source.texts.order_by("revision"))
    shown = _shown_revision(texts, request.GET.get("revision"))
    if shown is None:
        raise Http404("This source has no text yet.")
    first = request.GET.get("from", "0")
    if not (first.isascii() and first.isdigit() and len(first) < 10):
        return JsonResponse({"from": ["Give the index of a paragraph (0 or more)."]}, status=400)
    every = _all_rows(shown.pk, shown.sha256)
    rows, total = [], 0
    for row in every[int(first) :]:
        if rows and total + len(row[1]) > READING_CHUNK_CHARS:
            break
        rows.append(row)
        total += len(row[1])
    after = int(first) + len(rows)
    return JsonResponse({"blocks": rows, "next": after if after < len(every) else None})


@functools.lru_cache(maxsize=8)
def _all_rows(text_id: int, sha256: str) -> list[list]:
    """Every paragraph of a revision as the reading view streams it: a revision never
    changes (its checksum is part of the key), and the chunks of one page load are asked
    for at once, each of which read and split the whole text again (a 1 MB text: ~60 ms a
    chunk, five at once). At most 8 revisions a process (~2 MB each for 1 MB of text)."""
    revision = SourceText.objects.get(pk=text_id)
    return [[block.start, block.text, block.breaks] for block in reading_blocks(revision)]


@require_GET
@login_if_hidden
def source_compare(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    texts = {t.revision: t for t in source.texts.select_related("imported_by")}
    form = CompareForm(request.GET, revisions=sorted(texts))
    context = {"source": source, "library": source.library, "form": form, "enough": len(texts) > 1}
    if not form.is_valid():
        status = 200 if len(texts) < 2 and not request.GET else 400
        return render(request, "sources/source_compare.html", context, status=status)
    old, new = texts[form.cleaned_data["a"]], texts[form.cleaned_data["b"]]
    segments = compare_texts(old.text, new.text)
    context |= {"old": old, "new": new, "segments": segments, "changes": change_count(segments)}
    return render(request, "sources/source_compare.html", context)


def _render_source_form(
    request: HttpRequest,
    form: SourceForm,
    creators: BaseInlineFormSet,
    *,
    library: Library,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "creators": creators, "library": library, "source": form.instance}
    return render(request, "sources/source_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def source_create(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, write=True)
    form = SourceForm(_posted(request), instance=Source(library=library))
    creators = CreatorFormSet(_posted(request), instance=form.instance, prefix="creators")
    if request.method == "GET" or not (form.is_valid() & creators.is_valid()):
        return _render_source_form(
            request, form, creators, library=library, status=_status(request)
        )
    source = Source.objects.create_with_creators(
        library=library, creators=creator_rows(creators), created_by=request.user, **form.metadata()
    )
    messages.success(request, f"Source added as {source.citation_key}.")
    return redirect(source)


@require_http_methods(["GET", "POST"])
@login_required
def source_edit(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk, write=True)
    form = SourceForm(_posted(request), instance=source)
    creators = CreatorFormSet(_posted(request), instance=source, prefix="creators")
    library = source.library
    if request.method == "GET" or not (form.is_valid() & creators.is_valid()):
        return _render_source_form(
            request, form, creators, library=library, status=_status(request)
        )
    try:
        save_source_edit(form, creators)
    except EditConflict:
        form.add_error(None, "Someone saved this source after you opened it. Reload to see it.")
        return _render_source_form(request, form, creators, library=library, status=409)
    messages.success(request, "Source saved.")
    return redirect(source)


@require_http_methods(["GET", "POST"])
@login_required
def source_delete(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk, write=True)
    if request.method == "POST":
        library = source.library
        source.delete()
        messages.success(request, f"“{source.title}” deleted.")
        return redirect(library)
    context = {"source": source, "library": source.library, "doomed": _deletion_summary(source)}
    return render(request, "sources/source_confirm_delete.html", context)


def _deletion_summary(obj: Model) -> list[tuple[int, str]]:
    """What deleting `obj` takes with it, by kind (texts, links, annotations…)."""
    collector = Collector(using=router.db_for_write(type(obj)))
    collector.collect([obj])
    counts: dict[type, int] = {model: len(items) for model, items in collector.data.items()}
    for queryset in collector.fast_deletes:
        counts[queryset.model] = counts.get(queryset.model, 0) + queryset.count()
    counts.pop(type(obj), None)
    return sorted(
        (n, str(m._meta.verbose_name if n == 1 else m._meta.verbose_name_plural))
        for m, n in counts.items()
        if n
    )


# Texts and imports


@require_http_methods(["GET", "POST"])
@login_required
def text_create(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk, write=True)
    form = TextRevisionForm(_posted(request), request.FILES or None)
    context = {"source": source, "library": source.library, "form": form}
    if request.method == "GET" or not form.is_valid():
        return render(request, "sources/text_form.html", context, status=_status(request))
    try:
        if text_in_background(form.cleaned_data["file"]):
            return redirect(_enqueue_text(request, source, form.cleaned_data))
        text = _import_text(request, source, form.cleaned_data)
    except UploadError as error:
        return _upload_refused(request, "sources/text_form.html", context, error)
    messages.success(request, f"Revision {text.revision} added.")
    return redirect(source)


def _import_text(request: HttpRequest, source: Source, data: dict[str, Any]) -> SourceText:
    with transaction.atomic():  # a failed import leaves nothing behind, even mid-request
        return import_text_revision(
            source,
            data["file"],
            user=request.user,
            encoding=data["encoding"] or None,
            note=data["note"],
        )


@require_http_methods(["GET", "POST"])
@login_required
def import_create(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, write=True)
    form = MetadataImportForm(_posted(request), request.FILES or None)
    runs = library.imports.select_related("user")[:RECENT_IMPORTS]
    context = {"library": library, "form": form, "runs": runs}
    if request.method == "GET" or not form.is_valid():
        return render(request, "sources/import_form.html", context, status=_status(request))
    try:
        if _is_zotero_data(form.cleaned_data):  # a data directory's .zip: always a job
            return redirect(_enqueue_zotero(request, library, form.cleaned_data))
        if metadata_in_background(form.cleaned_data["file"], form.cleaned_data["format"]):
            return redirect(_enqueue_import(request, library, form.cleaned_data))
        run = _import_metadata(request, library, form.cleaned_data)
    except UploadError as error:
        return _upload_refused(request, "sources/import_form.html", context, error)
    return redirect("import-detail", pk=run.pk)


def _enqueue_text(request: HttpRequest, source: Source, data: dict[str, Any]) -> Job:
    """A large file is imported by a background job; the job page shows its progress."""
    return queue.enqueue(
        IMPORT_TEXT,
        library=source.library,
        user=request.user,
        upload=data["file"],
        source=source,
        encoding=data["encoding"] or "",
        note=data["note"],
    )


def _enqueue_import(request: HttpRequest, library: Library, data: dict[str, Any]) -> Job:
    return queue.enqueue(
        IMPORT_METADATA,
        library=library,
        user=request.user,
        upload=data["file"],
        format=data["format"] or "",
    )


def _is_zotero_data(data: dict[str, Any]) -> bool:
    name = (data["file"].name or "").lower() if data["file"] else ""
    return data["format"] == ImportFormat.ZOTERO_DATA or name.endswith(".zip")


def _enqueue_zotero(request: HttpRequest, library: Library, data: dict[str, Any]) -> Job:
    return queue.enqueue(
        IMPORT_ZOTERO_DATA, library=library, user=request.user, upload=data["file"]
    )


def _import_metadata(request: HttpRequest, library: Library, data: dict[str, Any]) -> ImportRun:
    with transaction.atomic():
        return import_metadata(library, data["file"], user=request.user, fmt=data["format"] or None)


@require_GET
@login_if_hidden
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_import_for_user(request.user, pk)
    context = {
        "run": run,
        "library": run.library,
        "rows": _outcome_rows(run),
        "counts": run.counts(),
        "warned": run.warning_count(),
        "anyway": sum(
            1 for o in run.outcomes if o.get("status") == "duplicate" and o.get("record")
        ),
        "can_edit": run.library.can_edit(request.user),
    }
    return render(request, "sources/import_detail.html", context)


@require_POST
@login_required
def import_anyway(request: HttpRequest, pk: int) -> HttpResponse:
    """The run's duplicates (or those ticked) created after all."""
    run = get_import_for_user(request.user, pk)
    values = request.POST.getlist("index")
    if not all(value.isdigit() and len(value) < 8 for value in values):
        return HttpResponse("index: each must be a record's number.", status=400)
    indexes = [int(value) for value in values]
    created = metadata_import.import_anyway(run, indexes, user=request.user)
    messages.success(request, f"{created} duplicate{'s' if created != 1 else ''} imported anyway.")
    return redirect("import-detail", pk=run.pk)


def _outcome_rows(run: ImportRun) -> list[dict[str, Any]]:
    """The run's outcomes with their source ids swapped for the sources still there."""
    keys = ("source", "duplicate_of")
    ids = {outcome.get(key) for outcome in run.outcomes for key in keys}
    found = run.library.sources.in_bulk([i for i in ids if isinstance(i, int)])
    return [
        outcome | {key: found.get(outcome.get(key)) for key in keys} for outcome in run.outcomes
    ]


# Links between sources


@require_POST
@login_required
def link_create(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk, write=True)
    form = SourceLinkForm(request.POST, subject=source, user=request.user)
    if not form.is_valid():
        return _render_source(request, source, link_form=form, status=400)
    try:
        with transaction.atomic():
            link = form.save()
    except IntegrityError:  # the same link saved by someone else a moment ago
        form.add_error("object", "These two sources are already linked this way.")
        return _render_source(request, source, link_form=form, status=400)
    messages.success(request, f"Linked: this source {link.get_relation_display()} “{link.object}”.")
    return redirect(source)


@require_POST
@login_required
def link_delete(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_link_for_user(request.user, pk, write=True)
    subject = link.subject
    link.delete()
    messages.success(request, "Link removed.")
    next_url = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}, request.is_secure()):
        return redirect(next_url)
    return redirect(reverse("source-detail", args=[subject.pk]))


LIBRARY_JOBS_LISTED = 100


@require_GET
@login_required
def library_jobs(request: HttpRequest, slug: str) -> HttpResponse:
    """The library's background jobs that the member may see (`Job.objects.visible_to`:
    all of them for owners, their own for the others), newest first."""
    library = get_library_for_user(request.user, slug)
    role = library.role_of(request.user)
    if role is None:  # a public library's visitors see no jobs
        return redirect(library)
    listed = Job.objects.visible_to(request.user).filter(library=library)
    listed = listed.select_related("user").defer("upload", "output")
    context = {"library": library, "jobs": listed[:LIBRARY_JOBS_LISTED], "role": role}
    return render(request, "sources/library_jobs.html", context)


@require_GET
@login_if_hidden
def source_history(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    can_revert = source.library.can_edit(request.user)
    return history_page(request, source, name="source", can_revert=can_revert)


@require_POST
@login_required
def source_history_revert(request: HttpRequest, pk: int, history_id: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    can_revert = source.library.can_edit(request.user)
    return history_revert(request, source, history_id, name="source", can_revert=can_revert)
