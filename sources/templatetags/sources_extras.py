"""Presentation helpers for source pages: metadata rows with human labels, creator lists."""

from __future__ import annotations

from dataclasses import dataclass

from django import template

from core.templatetags.display import language_text
from sources.forms import LABELS, SOURCE_FIELDS
from sources.models import CreatorRole, Source

register = template.Library()

# Plural role labels for the metadata panel ("Translators: …").
_PLURALS = {role.value: f"{role.label}s" for role in CreatorRole}
_ABBREVIATIONS = {
    CreatorRole.TRANSLATOR: "trans.",
    CreatorRole.EDITOR: "ed.",
    CreatorRole.RECIPIENT: "to",
    CreatorRole.INTERVIEWER: "interviewer",
    CreatorRole.INTERVIEWEE: "interviewee",
    CreatorRole.CONTRIBUTOR: "contrib.",
}
_SHOWN_ELSEWHERE = {"title", "abstract"}


@dataclass
class Row:
    label: str
    value: object
    kind: str = "text"  # text | url | identifiers | names | long | code | edtf


@register.filter
def language_name(code: str) -> str:
    """ "af-ZA" → "Afrikaans (South Africa)" (babel's CLDR names, as every page shows
    them: core.templatetags.display); an unknown tag is shown as written."""
    return language_text(code)


@register.simple_tag
def metadata_rows(source: Source) -> list[Row]:
    """Every set CSL field and every creator role, labelled for a reader."""
    rows = _creator_rows(source)
    for name in SOURCE_FIELDS:
        value = getattr(source, name)
        if name in _SHOWN_ELSEWHERE or value in ("", None, {}):
            continue
        rows.append(_row(source, name, value))
    rows.append(Row("Citation key", source.citation_key, "code"))
    return rows


def _row(source: Source, name: str, value) -> Row:
    label = LABELS[name].removesuffix(" (EDTF)")
    if name in ("csl_type", "kind"):
        return Row(label, getattr(source, f"get_{name}_display")())
    if name in ("language", "original_language"):
        return Row(label, language_name(value))
    if name == "url":
        return Row(label, value, "url")
    if name == "identifiers":
        return Row(label, sorted(value.items(), key=lambda pair: pair[0].lower()), "identifiers")
    if name == "issued":
        return Row(label, value, "edtf")  # words, the EDTF in a tooltip (the template's)
    if name == "note":
        return Row(label, value, "long")
    if name == "keywords":
        return Row(label, ", ".join(value))
    if name == "variables":  # other CSL variables, as the identifiers are shown: name, value
        pairs = [(key, _variable_text(val)) for key, val in sorted(value.items())]
        return Row(label, pairs, "identifiers")
    return Row(label, value)


def _variable_text(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("literal", ""))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _creator_rows(source: Source) -> list[Row]:
    by_role: dict[str, list[str]] = {}
    for creator in source.creators.all():
        by_role.setdefault(creator.role, []).append(creator.natural_name)
    return [
        Row(_PLURALS[role] if len(names) > 1 else CreatorRole(role).label, names, "names")
        for role, names in by_role.items()
    ]


@register.filter
def creator_line(source: Source) -> str:
    """ "Roshchin, N. V.; Mao Zedong (to)" for list rows; uses prefetched creators."""
    authors, others = [], []
    for creator in source.creators.all():
        if creator.role == CreatorRole.AUTHOR:
            authors.append(creator.display_name)
        else:
            role = _ABBREVIATIONS.get(creator.role) or CreatorRole(creator.role).label.lower()
            others.append(f"{creator.display_name} ({role})")
    return "; ".join(authors + others)
