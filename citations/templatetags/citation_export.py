"""Export links other packages' pages offer: `{% load citation_export %}`."""

from __future__ import annotations

from django import template

register = template.Library()

# The formats a search's results download in at one click (`citations.views.search_export`).
SEARCH_EXPORT_FORMATS = ("ris", "biblatex", "bibtex", "csl-json", "html", "markdown", "text")


@register.inclusion_tag("citations/_search_export_links.html")
def search_export_links(query) -> dict:
    """Links that download the sources of a search's results, one per format."""
    return {"query": query, "formats": SEARCH_EXPORT_FORMATS}
