"""The change history of sources, annotations, claims and events, and reverting to it.

django-simple-history records every save and delete (who, when, every field); this
module reads those records for one object and the rows that belong to it (a claim's
evidence and event links, a source's creators, links and revisions), turns consecutive
records into "what changed" with `diff_against`, and restores an earlier version
through the same functions that edit, so a revert is validated like any edit and is
itself recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from simple_history.models import HistoricalRecords

from annotations import claims as claim_work
from annotations import events as event_work
from annotations.models import Annotation, Claim, ClaimEvent, Event, Evidence, Tag
from sources.models import Creator, Source, SourceLink, SourceText

MAX_ENTRIES = 300
VALUE_MAX_CHARS = 600
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# Fields a revert restores, per model; the rest (offsets moved by re-anchoring, the
# library, who created it) stays as it is.
SOURCE_FIELDS = (
    "csl_type",
    "kind",
    "title",
    "container_title",
    "collection_title",
    "publisher",
    "publisher_place",
    "volume",
    "issue",
    "page",
    "edition",
    "issued",
    "archive",
    "archive_place",
    "archive_collection",
    "archive_location",
    "call_number",
    "genre",
    "medium",
    "url",
    "accessed",
    "language",
    "original_language",
    "rights",
    "identifiers",
    "abstract",
    "note",
)
CREATOR_FIELDS = ("role", "family", "given", "literal", "order")


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class Entry:
    """One recorded change, as the history page lists it."""

    what: str
    action: str
    when: dt.datetime
    user: Any
    changes: list[Change] = field(default_factory=list)
    reason: str = ""
    record: Any = None
    revertable: bool = False

    @property
    def history_id(self) -> int | None:
        return getattr(self.record, "history_id", None)


@contextmanager
def acting_as(user: Any) -> Iterator[None]:
    """Record changes made outside a request (a management command) as `user`'s."""
    context = HistoricalRecords.context
    previous = getattr(context, "request", None)
    context.request = SimpleNamespace(user=user)
    try:
        yield
    finally:
        if previous is None:
            del context.request
        else:
            context.request = previous


# --- reading ----------------------------------------------------------------------------


def entries(obj: models.Model, *, can_revert: bool = False) -> list[Entry]:
    """The object's history and its parts', newest first."""
    groups = versions(obj)
    label = label_of(obj)
    result = []
    for index, group in enumerate(groups):
        older = groups[index + 1][0] if index + 1 < len(groups) else None
        entry = describe_version(group, older, label)
        entry.revertable = can_revert and index > 0 and entry.action != "deleted"
        result.append(entry)
    for what, records in related_records(obj):
        result.extend(describe(record, what) for record in records)
    result.extend(revision_entries(obj))
    result.sort(key=lambda entry: entry.when, reverse=True)
    return result[:MAX_ENTRIES]


def has_version(obj: models.Model) -> bool:
    """Does every save bump a version that the tag changes made with it share? True of
    claims, events and annotations (their save() bumps it; tags are set right after)."""
    return isinstance(obj, Claim | Event | Annotation)


def versions(obj: models.Model) -> list[list[Any]]:
    """The object's records grouped by version, newest first. One save and the tag
    changes made with it share a version number: to a reader they are one change."""
    records = obj.history.select_related("history_user").order_by("-history_date", "-history_id")
    groups: list[list[Any]] = []
    for record in records[:MAX_ENTRIES]:
        same = groups and has_version(obj) and groups[-1][0].version == record.version
        if same:
            groups[-1].append(record)
        else:
            groups.append([record])
    return groups


def describe_version(group: list[Any], older: Any, what: str) -> Entry:
    """One version: `group` holds its records newest first; `older` is the newest record
    of the version before it."""
    newest, oldest = group[0], group[-1]
    types = {record.history_type for record in group}
    action = "created" if "+" in types else "deleted" if "-" in types else "changed"
    user = next((r.history_user for r in reversed(group) if r.history_user_id), None)
    reason = next((r.history_change_reason for r in group if r.history_change_reason), "")
    entry = Entry(
        what=what, action=action, when=oldest.history_date, user=user, reason=reason, record=newest
    )
    if action == "changed" and older is not None:
        delta = newest.diff_against(older)
        entry.changes = [change_of(newest, c.field, c.old, c.new) for c in delta.changes]
    elif action == "created":
        entry.changes = initial_values(newest)
    return entry


def label_of(obj: models.Model) -> str:
    return str(obj._meta.verbose_name).capitalize()


def related_records(obj: models.Model) -> list[tuple[str, list]]:
    """History of the rows that belong to `obj` and have no page of their own."""

    def recent(history, **lookup: Any) -> list:
        rows = history.filter(**lookup).select_related("history_user")
        return list(rows.order_by("-history_date")[:MAX_ENTRIES])

    if isinstance(obj, Claim):
        return [
            ("Evidence", recent(Evidence.history, claim_id=obj.pk)),
            ("Link to an event", recent(ClaimEvent.history, claim_id=obj.pk)),
        ]
    if isinstance(obj, Event):
        return [("Claim linked", recent(ClaimEvent.history, event_id=obj.pk))]
    if isinstance(obj, Source):
        links = SourceLink.history.filter(Q(subject_id=obj.pk) | Q(object_id=obj.pk))
        return [
            ("Creator", recent(Creator.history, source_id=obj.pk)),
            ("Link between sources", list(links.select_related("history_user")[:MAX_ENTRIES])),
        ]
    if isinstance(obj, Annotation):
        return [("Used as evidence", recent(Evidence.history, annotation_id=obj.pk))]
    return []


def revision_entries(obj: models.Model) -> list[Entry]:
    """Text revisions are immutable rows, not history records: each import is an entry."""
    if not isinstance(obj, Source):
        return []
    texts = SourceText.objects.filter(source=obj).select_related("imported_by")
    return [
        Entry(
            what="Text",
            action=f"revision {text.revision} imported",
            when=text.imported_at,
            user=text.imported_by,
            changes=[Change("File", "", text.file_name or "—"), Change("SHA-256", "", text.sha256)],
            reason=text.note,
        )
        for text in texts.defer("text", "html", "html_raw")
    ]


def describe(record: Any, what: str) -> Entry:
    entry = Entry(
        what=what,
        action=ACTIONS.get(record.history_type, record.history_type),
        when=record.history_date,
        user=record.history_user,
        reason=record.history_change_reason or "",
        record=record,
    )
    previous = record.prev_record if record.history_type == "~" else None
    if previous is not None:
        delta = record.diff_against(previous)
        entry.changes = [change_of(record, c.field, c.old, c.new) for c in delta.changes]
    elif record.history_type in "+-":
        entry.changes = initial_values(record)
    return entry


def initial_values(record: Any) -> list[Change]:
    changes = []
    for model_field in record.instance_type._meta.concrete_fields:
        if not model_field.editable or model_field.name in ("id", "created", "modified"):
            continue
        value = getattr(record, model_field.attname, None)
        if value not in (None, "", [], {}):
            changes.append(change_of(record, model_field.name, None, value))
    for m2m in getattr(record, "_history_m2m_fields", []):
        names = tag_names_at(record, m2m.name)
        if names:
            label = str(m2m.verbose_name).capitalize()
            changes.append(Change(label, "", ", ".join(sorted(names, key=str.casefold))))
    return changes


def change_of(record: Any, name: str, old: Any, new: Any) -> Change:
    model_field = record.instance_type._meta.get_field(name)
    label = str(getattr(model_field, "verbose_name", name)).capitalize()
    return Change(label, shown(model_field, old), shown(model_field, new))


def shown(model_field: Any, value: Any) -> str:
    """A field's value as a person reads it: choice labels, related names, tag names."""
    if value is None or value == "":
        return ""
    if isinstance(value, list) and model_field.many_to_many:
        return ", ".join(sorted(m2m_names(model_field, value), key=str.casefold))
    if getattr(model_field, "choices", None):
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        return related_name(model_field, value)
    text = str(value)
    return text if len(text) <= VALUE_MAX_CHARS else text[: VALUE_MAX_CHARS - 1] + "…"


def m2m_names(model_field: Any, rows: list[dict]) -> list[str]:
    """Names of the tags in a many-to-many history snapshot (rows of the through table)."""
    target = model_field.related_model
    key = next((k for k in (rows[0] if rows else {}) if k == target._meta.model_name), None)
    ids = [row[key] for row in rows] if key else []
    found = target.objects.in_bulk(ids)
    return [str(found[pk]) if pk in found else f"(deleted #{pk})" for pk in ids]


def related_name(model_field: Any, value: Any) -> str:
    pk = getattr(value, "pk", value)
    try:
        return str(model_field.related_model.objects.get(pk=pk))
    except (ObjectDoesNotExist, ValueError, TypeError):
        return f"(deleted #{pk})"


def page_of(obj: models.Model) -> str:
    """Where the object is shown; an annotation is shown on its source's page."""
    if isinstance(obj, Annotation):
        return f"{obj.text.source.get_absolute_url()}#annotation-{obj.pk}"
    return obj.get_absolute_url()


# --- reverting --------------------------------------------------------------------------


def reason_for(record: Any) -> str:
    moment = timezone.localtime(record.history_date)
    return f"Reverted to the version of {moment:%Y-%m-%d %H:%M}"


def record_of(obj: models.Model, history_id: int) -> Any:
    """The newest record of the version `history_id` belongs to (tags included)."""
    record = obj.history.filter(history_id=history_id).first()
    if record is None or record.history_type == "-":
        raise ValidationError({"version": "No such earlier version of this object."})
    if has_version(obj):
        same = obj.history.filter(version=record.version).exclude(history_type="-")
        record = same.order_by("-history_date", "-history_id").first()
    return record


def end_of(obj: models.Model, record: Any) -> dt.datetime:
    """When the version of `record` was replaced: its parts (event links, creators) are
    restored as they were just before."""
    later = obj.history.filter(history_date__gt=record.history_date).order_by("history_date")
    following = later.first()
    return following.history_date if following else timezone.now()


@transaction.atomic
def revert(obj: models.Model, history_id: int, *, user: Any) -> models.Model:
    """Restore `obj` to the recorded version `history_id`, as a new recorded change."""
    record = record_of(obj, history_id)
    obj._change_reason = reason_for(record)
    if isinstance(obj, Claim):
        return revert_claim(obj, record)
    if isinstance(obj, Event):
        return revert_event(obj, record)
    if isinstance(obj, Source):
        return revert_source(obj, record)
    if isinstance(obj, Annotation):
        return revert_annotation(obj, record, user=user)
    raise ValidationError({"version": "This kind of object cannot be reverted."})


def tag_names_at(record: Any, field_name: str) -> list[str]:
    rows = getattr(record, field_name).all()
    ids = [row.tag_id for row in rows]
    return list(Tag.objects.filter(pk__in=ids).values_list("name", flat=True))


def rows_as_of(records: Any, moment: dt.datetime) -> list:
    """The rows (as history records) that existed just before `moment`, as they were."""
    latest = records.filter(history_date__lt=moment).latest_of_each()
    return [row for row in latest if row.history_type != "-"]


def revert_claim(claim: Claim, record: Any) -> Claim:
    changes: dict[str, Any] = {name: getattr(record, name) for name in claim_work.CLAIM_FIELDS}
    changes["tags"] = tag_names_at(record, "tags")
    links = rows_as_of(ClaimEvent.history.filter(claim_id=claim.pk), end_of(claim, record))
    events = Event.objects.in_bulk([link.event_id for link in links])
    changes["events"] = [
        claim_work.EventLink(events[link.event_id], link.relation, link.note)
        for link in links
        if link.event_id in events
    ]
    return claim_work.update_claim(claim, changes)


def revert_event(event: Event, record: Any) -> Event:
    changes: dict[str, Any] = {
        name: getattr(record, name)
        for name in ("name", "date", "place", "description", "wikidata_id")
    }
    changes["parent"] = Event.objects.filter(pk=record.parent_id).first()
    changes["participants"] = tag_names_at(record, "participants")
    return event_work.update_event(event, changes)


def revert_source(source: Source, record: Any) -> Source:
    for name in SOURCE_FIELDS:
        setattr(source, name, getattr(record, name))
    source.full_clean(exclude=["citation_key"])
    source.version += 1
    source.save()
    restore_creators(source, end_of(source, record))
    return source


def restore_creators(source: Source, moment: dt.datetime) -> None:
    """The source's creators as they were at `moment`: kept rows updated, others
    removed, vanished ones created again."""
    then = {c.id: c for c in rows_as_of(Creator.history.filter(source_id=source.pk), moment)}
    for creator in list(source.creators.all()):
        old = then.pop(creator.pk, None)
        if old is None:
            creator.delete()
            continue
        if any(getattr(creator, n) != getattr(old, n) for n in CREATOR_FIELDS):
            for name in CREATOR_FIELDS:
                setattr(creator, name, getattr(old, name))
            creator.save()
    for old in then.values():
        Creator.objects.create(source=source, **{n: getattr(old, n) for n in CREATOR_FIELDS})


def revert_annotation(annotation: Annotation, record: Any, *, user: Any) -> Annotation:
    """Comment, motivation and tags come back; the anchor too if it was on this same
    revision; visibility only for its creator (as in any edit)."""
    changes: dict[str, Any] = {
        "comment": record.comment_raw,
        "motivation": record.motivation,
        "tags": tag_names_at(record, "tags"),
    }
    if record.text_id == annotation.text_id:
        changes |= {"start": record.start, "end": record.end, "exact": record.exact}
    if user.pk == annotation.creator_id:
        changes["visibility"] = record.visibility
    elif record.visibility != annotation.visibility:
        raise PermissionDenied("Only its creator can change who sees an annotation.")
    annotation.apply_changes(changes, user=user)
    return annotation
