"""Pages of annotations: their history, the reading view's annotations of a long text
(streamed in after its first screen), and the library's tag manager (every tag with its
count and namespace colour; rename, merge with a preview of what moves, delete). An
annotation is read, made and changed on its source's page
(`templates/annotations/_reader.html`, through the API)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations import tags as tagging
from annotations.access import get_annotation_for_user, get_tag_for_user, get_text_for_user
from annotations.models import Annotation, Tag, split_tag_name, tag_key
from annotations.reader import represent
from core.http import history_page, history_revert, login_if_hidden
from sources.access import get_library_for_user
from sources.models import Library


def _can_revert(request: HttpRequest, pk: int) -> bool:
    return Annotation.objects.editable_by(request.user).filter(pk=pk).exists()


@require_GET
@login_if_hidden
def annotation_history(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_for_user(request.user, pk)
    return history_page(request, annotation, name="annotation", can_revert=_can_revert(request, pk))


@require_POST
@login_required
def annotation_history_revert(request: HttpRequest, pk: int, history_id: int) -> HttpResponse:
    annotation = get_annotation_for_user(request.user, pk)
    can_revert = _can_revert(request, pk)
    return history_revert(request, annotation, history_id, name="annotation", can_revert=can_revert)


@require_GET
@login_if_hidden
def text_annotations(request: HttpRequest, text_pk: int) -> HttpResponse:
    """The reading view's annotations of a text beginning at `after` or later (JSON, the
    shape of the page's own), fetched while a long text streams in."""
    text = get_text_for_user(request.user, text_pk)
    after = request.GET.get("after", "0")
    if not (after.isascii() and after.isdigit() and len(after) < 12):
        return JsonResponse({"after": ["Give a code-point offset (0 or more)."]}, status=400)
    shown = Annotation.objects.visible_to(request.user).filter(
        text=text, start__gte=int(after), reply_to__isnull=True, whole_text=False
    )
    return JsonResponse(represent(request, shown), safe=False)


# --- the tag manager ---------------------------------------------------------------------


@require_GET
@login_if_hidden
def tag_manager(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    return _render_manager(request, library)


def _render_manager(
    request: HttpRequest, library: Library, *, errors: dict[int, str] | None = None, status=200
) -> HttpResponse:
    namespace = request.GET.get("namespace")
    everything = tagging.library_tags(library, request.user)
    shown = everything if namespace is None else [t for t in everything if t.namespace == namespace]
    counts: dict[str, int] = {}
    for tag in everything:
        counts[tag.namespace] = counts.get(tag.namespace, 0) + 1
        tag.error = (errors or {}).get(tag.pk, "")
    context = {
        "library": library,
        "tags": shown,
        "namespaces": sorted(counts.items()),
        "namespace": namespace,
        "colours": tagging.namespace_colours(library),
        "can_edit": library.can_edit(request.user),
        "here": "Tags",
    }
    return render(request, "annotations/tag_manager.html", context, status=status)


def _back(tag: Tag) -> str:
    return reverse("tag-manager", args=[tag.library.slug])


@require_POST
@login_required
def tag_rename(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_tag_for_user(request.user, pk, write=True)
    name = request.POST.get("name", "")
    try:
        split_tag_name(name)
        kept = tagging.rename_tag(tag, name)
    except ValidationError as error:
        return _refused(request, tag, " ".join(error.messages))
    except tagging.TagConflict as error:
        return _refused(request, tag, str(error), status=409)
    merged = kept.pk != tag.pk
    messages.success(
        request, f"“{tag.name}” {'merged into' if merged else 'renamed to'} “{kept.name}”."
    )
    return redirect(_back(tag))


def _refused(request: HttpRequest, tag: Tag, message: str, status: int = 400) -> HttpResponse:
    return _render_manager(request, tag.library, errors={tag.pk: message}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def tag_merge(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what merging this tag into `into` (a tag's name or id) would move; POST: merge."""
    tag = get_tag_for_user(request.user, pk, write=True)
    data = request.POST if request.method == "POST" else request.GET
    into = _other_tag(request, tag, data.get("into", ""))
    if into is None:
        return _refused(request, tag, "into: no other tag of this library has that name.")
    if request.method == "GET":
        context = {
            "library": tag.library,
            "tag": tag,
            "into": into,
            "moves": tagging.merge_preview(tag, into, request.user),
            "here": "Merge tags",
        }
        return render(request, "annotations/tag_merge.html", context)
    try:
        tagging.merge_tags(tag, into)
    except tagging.TagConflict as error:
        return _refused(request, tag, str(error), status=409)
    messages.success(request, f"“{tag.name}” merged into “{into.name}”.")
    return redirect(_back(tag))


def _other_tag(request: HttpRequest, tag: Tag, wanted: str) -> Tag | None:
    """The library's tag named `wanted` (case-insensitively) or with that id, not `tag`."""
    tags = Tag.objects.visible_to(request.user).filter(library_id=tag.library_id).exclude(pk=tag.pk)
    wanted = wanted.strip()
    if wanted.isdigit() and len(wanted) < 19:
        found = tags.filter(pk=int(wanted)).first()
        if found is not None:
            return found
    try:
        return tags.filter(name_key=tag_key(wanted)).first()
    except ValidationError:
        return None


@require_POST
@login_required
def tag_delete(request: HttpRequest, pk: int) -> HttpResponse:
    tag = get_tag_for_user(request.user, pk, write=True)
    tagging.delete_tag(tag)
    messages.success(request, f"Tag “{tag.name}” deleted; what carried it keeps everything else.")
    return redirect(_back(tag))
