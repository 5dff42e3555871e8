"""Who sees a page, its image, its words and the original file: whoever may read the
revision's source (`Library.visible_to`, the same rule as the text); a 404 otherwise."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from sources.models import Source, SourceText
from sources.pages.models import OriginalFile, Page

if TYPE_CHECKING:
    from sources.models import AnyUser


def get_page_for_user(user: AnyUser, pk: int) -> Page:
    """A page with its file's row (not its bytes) and its revision's source and library."""
    page = (
        Page.objects.visible_to(user)
        .select_related("original", "text__source__library")
        .defer("original__data", "text__text", "text__html", "text__html_raw")
        .filter(pk=pk)
        .first()
    )
    if page is None:
        raise Http404("No such page.")
    return page


def get_text_page_for_user(user: AnyUser, text_id: int, index: int) -> Page:
    """Page `index` (from 0) of revision `text_id`, as a region annotation names it."""
    page = (
        Page.objects.visible_to(user)
        .select_related("original")
        .defer("original__data", "words")
        .filter(text_id=text_id, index=index)
        .first()
    )
    if page is None:
        raise Http404("No such page.")
    return page


def get_original_for_user(user: AnyUser, pk: int) -> OriginalFile:
    original = OriginalFile.objects.visible_to(user).filter(pk=pk).first()
    if original is None:
        raise Http404("No such file.")
    return original


def revision_with_pages(source: Source, wanted: str | None) -> tuple[SourceText | None, bool]:
    """The revision the page view shows, and whether it is the current one: ?revision=N
    (404 if unknown), else the current revision if it has pages, else the last that has."""
    texts = list(source.texts.defer("html", "html_raw").order_by("revision"))
    if not texts:
        return None, False
    if wanted is not None:
        shown = next((t for t in texts if str(t.revision) == wanted.strip()), None)
        if shown is None:
            raise Http404("No such revision.")
    else:
        with_pages = set(Page.objects.filter(text__in=texts).values_list("text_id", flat=True))
        shown = next((t for t in reversed(texts) if t.pk in with_pages), texts[-1])
    return shown, shown.pk == texts[-1].pk
