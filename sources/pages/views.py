"""The page view of a source, its page images and words, the original file, the OCR form.

Who sees them is who reads the source (`sources.pages.access`, 404 otherwise); OCR is for
its library's editors (403 for a reader). Page images are cached (`render`) and sent with
an ETag and `Cache-Control: private` (a browser may keep them; a shared cache may not).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_GET, require_http_methods

from core.http import login_if_hidden
from core.uploads import UploadError, read_upload
from jobs import queue
from sources.access import get_source_for_user
from sources.models import Source, SourceText
from sources.pages import ocr
from sources.pages import render as rendering
from sources.pages.access import (
    get_original_for_user,
    get_page_for_user,
    get_text_page_for_user,
    revision_with_pages,
)
from sources.pages.forms import OcrForm
from sources.pages.jobs import BUNDLE, OCR, bundle
from sources.pages.models import (
    LOW_CONFIDENCE,
    OriginalFile,
    Page,
    Reading,
    low_confidence_words,
)

BROWSER_CACHE_SECONDS = 24 * 3600


@require_GET
@login_if_hidden
def page_view(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk)
    shown, is_current = revision_with_pages(source, request.GET.get("revision"))
    pages = _rows(shown, Page.objects.filter(text=shown).defer("words")) if shown else []
    context = {
        "source": source,
        "library": source.library,
        "shown": shown,
        "is_current": is_current,
        "pages": pages,
        "reading": Reading.objects.filter(text=shown).first() if shown else None,
        "originals": OriginalFile.objects.filter(text=shown).defer("data") if shown else [],
        "can_edit": source.library.can_edit(request.user),
        "config": _config(request, source, shown, is_current),
    }
    return render(request, "sources/pages/page_view.html", context)


@dataclass(frozen=True)
class PageRow:
    """A page as the page view lists it, its addresses built once for the view: a
    template's {% url %} per page cost a 300-page PDF most of its page view's time."""

    page: Page
    image: str
    srcset: str
    words: str
    crop: str
    width: int
    height: int


_ID = 987654321  # a stand-in id, replaced in the address reverse() builds around it


def _rows(shown: SourceText, pages: Iterable[Page]) -> list[PageRow]:
    image = reverse("page-image", args=[_ID])
    words = reverse("page-words", args=[_ID])
    crop = reverse("page-crop", args=[shown.pk, _ID])
    rows = []
    for page in pages:
        url = image.replace(str(_ID), str(page.pk))
        rows.append(
            PageRow(
                page=page,
                image=url,
                srcset=", ".join(f"{url}?width={w} {w}w" for w in rendering.WIDTHS),
                words=words.replace(str(_ID), str(page.pk)),
                crop=crop.replace(str(_ID), str(page.index)),
                width=round(page.width),
                height=round(page.height),
            )
        )
    return rows


def _config(request: HttpRequest, source: Source, shown: SourceText | None, current: bool):
    """What static/js/pages.js needs: the text, the annotation API, who may annotate."""
    return {
        "text": shown.pk if shown else None,
        "textUrl": f"{source.get_absolute_url()}?revision={shown.revision}" if shown else "",
        "annotations": reverse("api-annotation-list"),
        "csrfToken": get_token(request),
        "canAnnotate": bool(shown and current and source.library.can_edit(request.user)),
        "lowConfidence": LOW_CONFIDENCE,
    }


@require_GET
def page_image(request: HttpRequest, pk: int) -> HttpResponse:
    page = get_page_for_user(request.user, pk)
    width = _width(request.GET.get("width"))
    if isinstance(width, HttpResponse):
        return width
    etag = f'"{page.original.sha256[:20]}-{page.original_page}-{width}"'
    if etag in request.headers.get("If-None-Match", ""):
        return _private(HttpResponseNotModified(headers={"ETag": etag}))
    try:
        image = rendering.page_image(page, width)
    except UploadError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    return _private(HttpResponse(image, content_type="image/jpeg", headers={"ETag": etag}))


@require_GET
def page_crop(request: HttpRequest, text_id: int, index: int) -> HttpResponse:
    """A region of a page (`xywh=percent:x,y,w,h`, Media Fragments) as a PNG `width`
    pixels wide (at most MAX_CROP_WIDTH): what a region annotation shows of its page."""
    page = get_text_page_for_user(request.user, text_id, index)
    try:
        region = rendering.parse_xywh(request.GET.get("xywh", ""))
        width = rendering.crop_width(request.GET.get("width"))
        image = rendering.crop(page, region, width)
    except ValueError as error:
        field = "width" if str(error).startswith("width") else "xywh"
        return JsonResponse({field: [str(error)]}, status=400)
    except UploadError as error:
        return HttpResponse(error.message, status=error.status, content_type="text/plain")
    return _private(HttpResponse(image, content_type="image/png"))


@require_GET
def text_doubts(request: HttpRequest, pk: int) -> JsonResponse:
    """The words of a revision OCR read with doubt, [[start, end, confidence], …], for the
    text view to mark (static/js/pages.js)."""
    text = SourceText.objects.visible_to(request.user).filter(pk=pk).only("pk").first()
    if text is None:
        raise Http404("No such text.")
    return _private(JsonResponse({"low": LOW_CONFIDENCE, "words": low_confidence_words(text)}))


def _width(value: str | None) -> int | HttpResponse:
    if value is None:
        return rendering.DEFAULT_WIDTH
    if not value.isdigit() or int(value) not in rendering.WIDTHS:
        allowed = ", ".join(map(str, rendering.WIDTHS))
        return JsonResponse({"width": [f"Choose one of {allowed}."]}, status=400)
    return int(value)


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, max_age=BROWSER_CACHE_SECONDS)
    return response


@require_GET
def page_words(request: HttpRequest, pk: int) -> JsonResponse:
    """The page's text and its words (code points of the revision, box, confidence)."""
    page = get_page_for_user(request.user, pk)
    text = SourceText.objects.filter(pk=page.text_id).values_list("text", flat=True)[0]
    words = Page.objects.filter(pk=page.pk).values_list("words", flat=True)[0]
    body = {
        "page": page.pk,
        "index": page.index,
        "label": page.label,
        "start": page.start,
        "end": page.end,
        "text": text[page.start : page.end],
        "words": [word for word in map(_word, words or []) if word],
    }
    return _private(JsonResponse(body))


def _word(value: Any) -> list | None:
    """A stored word as numbers, or None: rows come from restored archives too."""
    if not isinstance(value, list) or len(value) not in (6, 7):
        return None
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
        return None
    return [round(v) for v in value]


@require_GET
def original_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file a revision was read from, as it came, with its checksum."""
    original = get_original_for_user(request.user, pk)
    response = HttpResponse(bytes(original.data), content_type=original.media_type)
    response["Content-Disposition"] = _attachment(original.name)
    response["Digest"] = f"sha-256={original.sha256}"
    return _private(response)


def _attachment(name: str) -> str:
    ascii_name = name.encode("ascii", "replace").decode().replace('"', "")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@require_http_methods(["GET", "POST"])
@login_required
def ocr_form(request: HttpRequest, pk: int) -> HttpResponse:
    source = get_source_for_user(request.user, pk, write=True)
    revisions = list(
        SourceText.objects.filter(source=source, originals__isnull=False)
        .distinct()
        .defer("text", "html", "html_raw")
        .order_by("-revision")
    )
    posted = request.POST if request.method == "POST" else None
    form = OcrForm(posted, request.FILES or None, source=source, revisions=revisions)
    context = {"source": source, "library": source.library, "form": form,
               "unavailable": ocr.unavailable()}  # fmt: skip
    if posted is None or not form.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "sources/pages/ocr_form.html", context, status=status)
    try:
        job = _enqueue(request, source, form.cleaned_data, revisions)
    except UploadError as error:
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return render(request, "sources/pages/ocr_form.html", context, status=error.status)
    except ValidationError as error:
        _add_errors(form, error)
        return render(request, "sources/pages/ocr_form.html", context, status=400)
    return redirect(job)


def _enqueue(request: HttpRequest, source: Source, data: dict, revisions: list) -> Model:
    revision = next((t for t in revisions if t.revision == data["revision"]), None)
    upload = _scan(data["files"]) if data["files"] else None
    return queue.enqueue(
        OCR,
        library=source.library,
        user=request.user,
        upload=upload,
        source=source,
        revision=revision,
        languages=data["languages"],
        note=data["note"],
    )


def _scan(files: list[UploadedFile]) -> UploadedFile:
    """One file as it is; several page images bundled, in order, into one upload."""
    if len(files) == 1:
        return files[0]
    found = [(f.name or "page", read_upload(f, field="files")) for f in files]
    for name, _ in found:
        if not name.lower().endswith((".tif", ".tiff", ".jpg", ".jpeg", ".png")):
            raise UploadError(
                f"{name} is not a page image: upload one PDF, or page images (TIFF, JPEG, PNG).",
                field="files",
            )
    return SimpleUploadedFile(BUNDLE, bundle(found))


def _add_errors(form: OcrForm, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)
