"""The change history of any tracked model, and reverting to it.

django-simple-history records every save and delete (who, when, every field). This module
reads those records for one object and for the rows that belong to it (a claim's evidence,
a source's creators), turns consecutive records into "what changed" with `diff_against`,
and restores an earlier version through the function its package registers, which edits
the object as any edit does: a revert is validated like an edit and is itself recorded.

What a model's history shows and how it is reverted is registered by the package that owns
it (`track`; `sources.history`, `annotations.history`, `annotations.claims.history`), and a
package may add the records of its own rows to another's history (`also_show`: the claims
an annotation is evidence for). core imports none of them.

Everything is read as a viewer may see it: a package's `also_show` records receive the
viewer and return only what they may see; a related object named in a change (a claim, a
highlight, a parent event) is shown by name only if its model's `visible_to(viewer)`
includes it, as "(not shown)" otherwise; a model without `visible_to` (users) is named.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from simple_history.models import HistoricalRecords

MAX_ENTRIES = 300
VALUE_MAX_CHARS = 600
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
HIDDEN = "(not shown)"  # a related row the viewer may not see


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


# --- what each model's history is -------------------------------------------------------

Related = Callable[[models.Model, Any], QuerySet]  # (object, viewer) -> history records


@dataclass
class Tracked:
    """How one model's history reads and reverts.

    - `versioned`: every save bumps a `version` that the tag changes made with it share, so
      a save and its tags read as one change;
    - `revert(obj, record, user)` restores the version `record` holds, as an edit;
    - `page(obj)`: where the object is shown;
    - `extra(obj)`: entries that are not history records (a source's text revisions);
    - `related`: (label, records) of the rows that belong to it and have no page of their
      own, from its package and from others (`also_show`).
    """

    versioned: bool = False
    revert: Callable[[Any, Any, Any], models.Model] | None = None
    page: Callable[[Any], str] = lambda obj: obj.get_absolute_url()
    extra: Callable[[Any], list[Entry]] = lambda obj: []
    related: list[tuple[str, Related]] = field(default_factory=list)


_tracked: dict[type[models.Model], Tracked] = {}


def track(model: type[models.Model], **how: Any) -> None:
    """Say how `model`'s history reads and reverts (see `Tracked`); `also_show` entries
    registered before are kept."""
    related = _tracked[model].related if model in _tracked else []
    _tracked[model] = Tracked(**how, related=related)


def also_show(model: type[models.Model], what: str, records: Related) -> None:
    """Show `records(obj, viewer)` (history records of other rows) in `model`'s history,
    each labelled `what`."""
    _tracked.setdefault(model, Tracked()).related.append((what, records))


def tracked(obj: models.Model) -> Tracked:
    return _tracked.get(type(obj), Tracked())


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


def entries(obj: models.Model, *, viewer: Any, can_revert: bool = False) -> list[Entry]:
    """The object's history and its parts', newest first, as `viewer` may see them."""
    groups = versions(obj)
    label = label_of(obj)
    result = []
    for index, group in enumerate(groups):
        older = groups[index + 1][0] if index + 1 < len(groups) else None
        entry = describe_version(group, older, label, viewer)
        entry.revertable = can_revert and index > 0 and entry.action != "deleted"
        result.append(entry)
    for what, records in related_records(obj, viewer):
        result.extend(describe(record, what, viewer) for record in records)
    result.extend(tracked(obj).extra(obj))
    result.sort(key=lambda entry: entry.when, reverse=True)
    return result[:MAX_ENTRIES]


def versions(obj: models.Model) -> list[list[Any]]:
    """The object's records grouped by version, newest first. One save and the tag
    changes made with it share a version number: to a reader they are one change."""
    records = obj.history.select_related("history_user").order_by("-history_date", "-history_id")
    versioned = tracked(obj).versioned
    groups: list[list[Any]] = []
    for record in records[:MAX_ENTRIES]:
        if groups and versioned and groups[-1][0].version == record.version:
            groups[-1].append(record)
        else:
            groups.append([record])
    return groups


def describe_version(group: list[Any], older: Any, what: str, viewer: Any) -> Entry:
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
        entry.changes = [change_of(newest, c, viewer) for c in delta.changes]
    elif action == "created":
        entry.changes = initial_values(newest, viewer)
    return entry


def label_of(obj: models.Model) -> str:
    return str(obj._meta.verbose_name).capitalize()


def related_records(obj: models.Model, viewer: Any) -> list[tuple[str, list]]:
    """History of the rows that belong to `obj` and have no page of their own."""
    return [
        (what, list(records(obj, viewer).select_related("history_user")[:MAX_ENTRIES]))
        for what, records in tracked(obj).related
    ]


def describe(record: Any, what: str, viewer: Any) -> Entry:
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
        entry.changes = [change_of(record, c, viewer) for c in delta.changes]
    elif record.history_type in "+-":
        entry.changes = initial_values(record, viewer)
    return entry


def initial_values(record: Any, viewer: Any) -> list[Change]:
    changes = []
    for model_field in record.instance_type._meta.concrete_fields:
        if not model_field.editable or model_field.name in ("id", "created", "modified"):
            continue
        value = getattr(record, model_field.attname, None)
        if value not in (None, "", [], {}):
            label = str(getattr(model_field, "verbose_name", model_field.name)).capitalize()
            changes.append(Change(label, "", shown(model_field, value, viewer)))
    for m2m in getattr(record, "_history_m2m_fields", []):
        names = names_at(record, m2m.name)
        if names:
            label = str(m2m.verbose_name).capitalize()
            changes.append(Change(label, "", ", ".join(sorted(names, key=str.casefold))))
    return changes


def change_of(record: Any, change: Any, viewer: Any) -> Change:
    """One field's change (a simple-history `ModelChange`), as `viewer` may read it."""
    model_field = record.instance_type._meta.get_field(change.field)
    label = str(getattr(model_field, "verbose_name", change.field)).capitalize()
    return Change(
        label, shown(model_field, change.old, viewer), shown(model_field, change.new, viewer)
    )


def shown(model_field: Any, value: Any, viewer: Any) -> str:
    """A field's value as `viewer` reads it: choice labels, related names (of what they
    may see), tag names."""
    if value is None or value == "":
        return ""
    if isinstance(value, list) and model_field.many_to_many:
        return ", ".join(sorted(m2m_names(model_field, value), key=str.casefold))
    if getattr(model_field, "choices", None):
        return str(dict(model_field.flatchoices).get(value, value))
    if model_field.is_relation:
        return related_name(model_field, value, viewer)
    text = str(value)
    return text if len(text) <= VALUE_MAX_CHARS else text[: VALUE_MAX_CHARS - 1] + "…"


def m2m_names(model_field: Any, rows: list[dict]) -> list[str]:
    """Names of the rows in a many-to-many history snapshot (rows of the through table)."""
    target = model_field.related_model
    key = next((k for k in (rows[0] if rows else {}) if k == target._meta.model_name), None)
    ids = [row[key] for row in rows] if key else []
    found = target.objects.in_bulk(ids)
    return [str(found[pk]) if pk in found else f"(deleted #{pk})" for pk in ids]


def related_name(model_field: Any, value: Any, viewer: Any) -> str:
    """The related row's name if `viewer` may see it (its model's `visible_to`, where it has
    one): a private claim's statement never shows through another row's history."""
    pk = getattr(value, "pk", value)
    rows = model_field.related_model._default_manager
    visible = rows.visible_to(viewer) if hasattr(rows, "visible_to") else rows.all()
    try:
        found = visible.filter(pk=pk).first()
        if found is not None:
            return str(found)
        return HIDDEN if rows.filter(pk=pk).exists() else f"(deleted #{pk})"
    except (ValueError, TypeError, ValidationError):  # a malformed id in an old record
        return f"(deleted #{pk})"


def names_at(record: Any, field_name: str) -> list[str]:
    """The names of what a many-to-many field (tags, participants) held in `record`."""
    model_field = record.instance_type._meta.get_field(field_name)
    column = model_field.m2m_reverse_name()  # the through table's column of the target
    ids = [getattr(row, column) for row in getattr(record, field_name).all()]
    return [str(row) for row in model_field.related_model.objects.filter(pk__in=ids)]


def page_of(obj: models.Model) -> str:
    """Where the object is shown."""
    return tracked(obj).page(obj)


# --- reverting --------------------------------------------------------------------------


def reason_for(record: Any) -> str:
    moment = timezone.localtime(record.history_date)
    return f"Reverted to the version of {moment:%Y-%m-%d %H:%M}"


def record_of(obj: models.Model, history_id: int) -> Any:
    """The newest record of the version `history_id` belongs to (tags included)."""
    record = obj.history.filter(history_id=history_id).first()
    if record is None or record.history_type == "-":
        raise ValidationError({"version": "No such earlier version of this object."})
    if tracked(obj).versioned:
        same = obj.history.filter(version=record.version).exclude(history_type="-")
        record = same.order_by("-history_date", "-history_id").first()
    return record


def end_of(obj: models.Model, record: Any) -> dt.datetime:
    """When the version of `record` was replaced: its parts (event links, creators) are
    restored as they were just before."""
    later = obj.history.filter(history_date__gt=record.history_date).order_by("history_date")
    following = later.first()
    return following.history_date if following else timezone.now()


def rows_as_of(records: Any, moment: dt.datetime) -> list:
    """The rows (as history records) that existed just before `moment`, as they were."""
    latest = records.filter(history_date__lt=moment).latest_of_each()
    return [row for row in latest if row.history_type != "-"]


@transaction.atomic
def revert(obj: models.Model, history_id: int, *, user: Any) -> models.Model:
    """Restore `obj` to the recorded version `history_id`, as a new recorded change."""
    how = tracked(obj).revert
    if how is None:
        raise ValidationError({"version": "This kind of object cannot be reverted."})
    record = record_of(obj, history_id)
    obj._change_reason = reason_for(record)
    return how(obj, record, user)
