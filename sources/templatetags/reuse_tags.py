"""The source page's "Shared passages" panel: `{% load reuse_tags %}{% reuse_panel shown %}`.

An inclusion tag, so the source page's view needs to know nothing about text reuse.
"""

from __future__ import annotations

from typing import Any

from django import template

from sources.models import SourceText
from sources.reuse import reports

register = template.Library()

PANEL_SOURCES = 5  # other sources listed on the source page; the full page lists all
PANEL_PASSAGES = 3  # passages shown per source on the source page


@register.inclusion_tag("sources/reuse/panel.html", takes_context=True)
def reuse_panel(context: template.Context, shown: SourceText | None) -> dict[str, Any]:
    request = context["request"]
    panel: dict[str, Any] = {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "shown": shown,
        "passages_shown": PANEL_PASSAGES,
    }
    if shown is not None:
        library = shown.source.library
        panel["report"] = reports.report(shown, limit=PANEL_SOURCES)
        panel["can_edit"] = library.can_edit(request.user)
        panel["source"] = shown.source
    return panel


@register.filter
def percent(value: float) -> str:
    """0.873 → "87 %"; anything above zero shows at least "<1 %"."""
    if 0 < value < 0.005:
        return "<1 %"
    return f"{round(100 * value)} %"
