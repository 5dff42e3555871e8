"""Tag chips rendered on the server, coloured as static/js/annotate-tags.js colours them: a
stable palette class per namespace (`chip-c0`…`chip-c7`, the same hash), and the library's
own colour for the namespace in `data-colour`, which static/js/chip-colours.js applies (the
Content-Security-Policy refuses inline styles)."""

from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

from annotations.models import Tag

register = template.Library()
PALETTE_SIZE = 8


def palette_index(namespace: str) -> int:
    """The JavaScript `paletteIndex`: (hash * 31 + code point) as an unsigned 32-bit int."""
    value = 0
    for char in namespace:
        value = (value * 31 + ord(char)) & 0xFFFFFFFF
    return value % PALETTE_SIZE


@register.simple_tag
def tag_chip(tag: Tag, colours: dict[str, str] | None = None) -> SafeString:
    colour = (colours or {}).get(tag.namespace, "")
    namespace = (
        format_html('<span class="chip-ns">{}:</span>', tag.namespace) if tag.namespace else ""
    )
    return format_html(
        '<span class="chip chip-c{}" data-tag="{}"{}>{}<span class="chip-label">{}</span></span>',
        palette_index(tag.namespace),
        tag.name,
        format_html(' data-colour="{}"', colour) if colour else "",
        namespace,
        tag.label,
    )


@register.simple_tag
def namespace_chip(namespace: str, colours: dict[str, str] | None = None) -> SafeString:
    colour = (colours or {}).get(namespace, "")
    return format_html(
        '<span class="chip chip-c{}"{}><span class="chip-label">{}</span></span>',
        palette_index(namespace),
        format_html(' data-colour="{}"', colour) if colour else "",
        f"{namespace}:" if namespace else "no namespace",
    )
