"""The timeline: a library's events drawn as a server-rendered SVG.

Time runs left to right. An event that lasted is a solid bar; an exactly dated one a
narrow mark; a date known only to the month, year or decade ("1960-07", "196X") is a
hatched bar over everything it may mean; an uncertain or approximate date ("1950?-01-01",
"1950-01-01~") is its mark with a dashed whisker over the span EDTF allows; an open end
fades out. An event and the events inside it are drawn together in one group.

Zooming is horizontal (`static/js/timeline.js` narrows the viewBox, with
preserveAspectRatio="none"), so labels and marks carry `data-x`/`data-y`/`data-w` for
the script to keep their on-screen size. Without the script the SVG is drawn at its
nominal width, one viewBox unit to a CSS pixel, and scrolls sideways.
"""

from __future__ import annotations

import calendar
import datetime as dt
import functools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass, field

import edtf
from django.urls import reverse

from annotations.claims.models import Event

WIDTH = 1200
LEFT, RIGHT = 16, 16
AXIS_H = 34
ROW_H = 36
GROUP_GAP = 12
BAR_H = 10
POINT_W = 4
CHAR_W = 6.6  # average advance of the 12px label font, in viewBox units at zoom 1
LABEL_PAD = 14
TICK_MIN_PX = 64
MONTH_STEPS = (1, 3, 6, 12, 24, 60, 120, 240, 600, 1200)
MAX_ZOOM = 400
MAX_TICKS = 1500
QUALIFIED = re.compile(r"[?~%]")
REDUCED = re.compile(r"[Xu]|^\d{4}(-\d{2})?$|^\[|^\{|^-?\d{4}-(2[1-9]|3\d|4[01])$")


@dataclass
class Mark:
    """One event as drawn: its span in days and how sure the date is."""

    event: Event
    start: dt.date | None
    end: dt.date | None
    kind: str  # "interval" | "point" | "reduced" | "uncertain"
    fuzzy: tuple[dt.date, dt.date] | None = None
    depth: int = 0
    children: list[Mark] = field(default_factory=list)
    row: int = 0

    @property
    def first(self) -> dt.date:
        dates = [d for d in (self.start, self.end, self.fuzzy and self.fuzzy[0]) if d]
        return min(dates)

    @property
    def last(self) -> dt.date:
        dates = [d for d in (self.end, self.start, self.fuzzy and self.fuzzy[1]) if d]
        return max(dates)


def classify(event: Event) -> Mark:
    date = event.date.strip()
    kind = "point" if event.earliest == event.latest else "interval"
    fuzzy = None
    if "/" in date:
        kind = "interval"
    elif QUALIFIED.search(date):
        kind, fuzzy = "uncertain", fuzzy_bounds(date)
    elif REDUCED.search(date):
        kind = "reduced"
    return Mark(event, event.earliest, event.latest, kind, fuzzy)


# A plain date with ?, ~ or % after some of its parts. The edtf library takes ~25 ms a
# string to parse these (pyparsing); this computes the same span in microseconds.
QUALIFIED_DATE = re.compile(
    r"(?P<y>\d{4})(?P<qy>[?~%])?(?:-(?P<m>\d{2})(?P<qm>[?~%])?(?:-(?P<d>\d{2})(?P<qd>[?~%])?)?)?"
)


@functools.lru_cache(maxsize=4096)
def fuzzy_bounds(value: str) -> tuple[dt.date, dt.date] | None:
    """The widened span EDTF gives an uncertain (?) or approximate (~) date: a qualifier
    pads its part and every part to its left by one unit (twice for %), as the edtf
    library does."""
    if (match := QUALIFIED_DATE.fullmatch(value)) and (bounds := _strict(match)):
        pad = _padding(match)
        return _shift(bounds[0], pad, -1), _shift(bounds[1], pad, 1)
    try:
        parsed = edtf.parse_edtf(value)
        return _day(parsed.lower_fuzzy()), _day(parsed.upper_fuzzy())
    except (edtf.EDTFParseException, ValueError, TypeError, OverflowError):
        return None


def _strict(match: re.Match) -> tuple[dt.date, dt.date] | None:
    try:
        year, month, day = int(match["y"]), match["m"], match["d"]
        if month is None:
            return dt.date(year, 1, 1), dt.date(year, 12, 31)
        last = calendar.monthrange(year, int(month))[1]
        if day is None:
            return dt.date(year, int(month), 1), dt.date(year, int(month), last)
        exact = dt.date(year, int(month), int(day))
    except (ValueError, calendar.IllegalMonthError):
        return None
    return exact, exact


def _padding(match: re.Match) -> tuple[int, int, int]:
    """(years, months, days) of padding from the rightmost qualifier."""
    units = [0, 0, 0]
    for index, part in enumerate(("qy", "qm", "qd")):
        if match[part]:
            factor = 2 if match[part] == "%" else 1
            units[: index + 1] = [max(u, factor) for u in units[: index + 1]]
    return units[0], units[1], units[2]


def _shift(day: dt.date, pad: tuple[int, int, int], sign: int) -> dt.date:
    years, months, days = pad
    total = day.year * 12 + day.month - 1 + sign * (years * 12 + months)
    year, month = divmod(total, 12)
    year = max(1, min(9999, year))
    moved = dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))
    return moved + dt.timedelta(days=sign * days)


def _day(moment) -> dt.date:
    year = max(1, min(9999, moment.tm_year))
    day = min(moment.tm_mday, calendar.monthrange(year, moment.tm_mon)[1])
    return dt.date(year, moment.tm_mon, day)


# --- layout --------------------------------------------------------------------------------


@dataclass
class Scale:
    first: dt.date
    last: dt.date

    @classmethod
    def around(cls, marks: list[Mark]) -> Scale:
        first = min(m.first for m in marks)
        last = max(m.last for m in marks)
        span = max((last - first).days, 60)
        pad = dt.timedelta(days=max(span // 30, 15))
        return cls(first - pad, last + pad)

    @property
    def days(self) -> int:
        return max((self.last - self.first).days, 1)

    def x(self, day: dt.date | None, *, end: bool = False) -> float:
        if day is None:
            return float(LEFT if not end else WIDTH - RIGHT)
        offset = (day - self.first).days + (1 if end else 0)  # an end date counts whole
        return round(LEFT + offset / self.days * (WIDTH - LEFT - RIGHT), 2)


def fit_labels(scale: Scale, marks: list[Mark]) -> Scale:
    """Lengthen the period shown until the last event's label ends inside the picture."""
    plot = WIDTH - LEFT - RIGHT
    for _ in range(5):
        overflow = max(extent(m, scale)[1] for m in marks) - (WIDTH - RIGHT)
        if overflow <= 0:
            break
        extra = math.ceil(overflow / plot * scale.days * 1.2)
        scale = Scale(scale.first, scale.last + dt.timedelta(days=extra))
    return scale


def label_width(mark: Mark) -> float:
    return len(mark.event.name) * CHAR_W + LABEL_PAD


def extent(mark: Mark, scale: Scale) -> tuple[float, float]:
    x0 = scale.x(mark.first)
    return x0, max(scale.x(mark.last, end=True), x0 + label_width(mark))


def forest(events: Iterable[Event]) -> tuple[list[Mark], list[Event]]:
    """Dated events as trees of marks (roots are events without a dated parent), and
    the undated ones."""
    marks, undated = {}, []
    for event in events:
        if event.earliest is None and event.latest is None:
            undated.append(event)
        else:
            marks[event.pk] = classify(event)
    roots = []
    for mark in sorted(marks.values(), key=lambda m: (m.first, m.event.name)):
        parent = marks.get(mark.event.parent_id)
        (parent.children if parent else roots).append(mark)
    return roots, undated


def flatten(root: Mark, depth: int = 0) -> list[Mark]:
    root.depth = depth
    result = [root]
    for child in root.children:
        result.extend(flatten(child, depth + 1))
    return result


def pack_rows(members: list[Mark], scale: Scale) -> int:
    """First-fit rows inside a group: the root alone on row 0. Returns the row count."""
    ends: list[float] = []
    for mark in members[1:]:
        x0, x1 = extent(mark, scale)
        for index, end in enumerate(ends):
            if end <= x0:
                ends[index] = x1
                mark.row = index + 1
                break
        else:
            ends.append(x1)
            mark.row = len(ends)
    return 1 + len(ends)


@dataclass
class Group:
    root: Mark
    members: list[Mark]
    rows: int
    x0: float
    x1: float
    y: float = 0

    @property
    def height(self) -> float:
        return self.rows * ROW_H + (8 if self.rows > 1 else 0)


def place_groups(groups: list[Group]) -> float:
    """Stack groups like a skyline: each goes as high as it can without overlapping a
    group that shares some of its time. Returns the total height."""
    placed: list[Group] = []
    for group in groups:
        sharing = sorted(
            (g for g in placed if g.x0 < group.x1 and group.x0 < g.x1), key=lambda g: g.y
        )
        y = 0.0
        # Sorted by top, one pass suffices: y only moves down, past each group it meets.
        for other in sharing:
            if other.y < y + group.height + GROUP_GAP and y < other.y + other.height + GROUP_GAP:
                y = other.y + other.height + GROUP_GAP
        group.y = y
        placed.append(group)
    return max((g.y + g.height for g in placed), default=0)


@dataclass
class Layout:
    scale: Scale | None
    groups: list[Group]
    height: float
    undated: list[Event]


def layout(events: Iterable[Event]) -> Layout:
    roots, undated = forest(events)
    if not roots:
        return Layout(None, [], 0, undated)
    marks = [m for root in roots for m in flatten(root)]
    scale = fit_labels(Scale.around(marks), marks)
    groups = []
    for root in roots:
        members = flatten(root)
        rows = pack_rows(members, scale)
        spans = [extent(m, scale) for m in members]
        groups.append(
            Group(root, members, rows, min(s[0] for s in spans) - 6, max(s[1] for s in spans) + 6)
        )
    return Layout(scale, groups, place_groups(groups), undated)


# --- ticks ----------------------------------------------------------------------------------


def add_months(day: dt.date, months: int) -> dt.date:
    total = day.year * 12 + day.month - 1 + months
    return dt.date(total // 12, total % 12 + 1, 1)


def ticks(scale: Scale, step: int) -> list[dt.date]:
    """Month starts every `step` months (years and decades start on round numbers)."""
    first = dt.date(scale.first.year, 1, 1)
    if step >= 12:
        years = step // 12
        first = dt.date(max(1, scale.first.year - scale.first.year % years), 1, 1)
    result, day = [], first
    while day <= scale.last and len(result) < 2000:
        if day >= scale.first:
            result.append(day)
        day = add_months(day, step)
    return result


def tick_label(day: dt.date, step: int) -> str:
    if step >= 12:
        return str(day.year)
    return day.strftime("%b %Y") if day.month == 1 or step >= 3 else day.strftime("%b")


def tick_levels(scale: Scale) -> list[tuple[int, list[dt.date]]]:
    """Levels of ticks from coarse to fine, each one that some zoom level can show apart."""
    px_per_month = (WIDTH - LEFT - RIGHT) / (scale.days / 30.44)
    levels = []
    for step in reversed(MONTH_STEPS):
        if step * px_per_month * MAX_ZOOM < TICK_MIN_PX:
            break
        days = ticks(scale, step)
        if len(days) > MAX_TICKS:
            break
        if len(days) >= 2 or not levels:
            levels.append((step, days))
    return levels


def shown_level(levels: list[tuple[int, list[dt.date]]], scale: Scale) -> int:
    """The finest level whose ticks stand at least TICK_MIN_PX apart at zoom 1."""
    px_per_month = (WIDTH - LEFT - RIGHT) / (scale.days / 30.44)
    shown = 0
    for index, (step, _) in enumerate(levels):
        if step * px_per_month >= TICK_MIN_PX:
            shown = index
    return shown


# --- drawing --------------------------------------------------------------------------------

SVG_NS = "http://www.w3.org/2000/svg"


def _el(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    clean = {k.rstrip("_").replace("_", "-"): str(v) for k, v in attrs.items() if v is not None}
    return ET.SubElement(parent, tag, clean)


def render(events: Iterable[Event], *, title: str = "Timeline") -> tuple[str, Layout]:
    """The SVG markup (safe: ElementTree escapes every name) and the layout behind it."""
    plan = layout(events)
    height = AXIS_H + plan.height + 10
    svg = ET.Element(
        "svg",
        {
            "xmlns": SVG_NS,
            "class": "timeline-svg",
            "role": "group",
            "aria-labelledby": "timeline-title",
            "viewBox": f"0 0 {WIDTH} {height:g}",
            "width": str(WIDTH),
            "height": f"{height:g}",
            "preserveAspectRatio": "none",
            "data-timeline": "",
        },
    )
    _el(svg, "title", id="timeline-title").text = title
    defs(svg)
    if plan.scale is not None:
        draw_axis(svg, plan.scale, height)
        for group in plan.groups:
            draw_group(svg, group, plan.scale)
    return ET.tostring(svg, encoding="unicode"), plan


def defs(svg: ET.Element) -> None:
    d = _el(svg, "defs")
    hatch = _el(
        d,
        "pattern",
        id="tl-hatch",
        width=6,
        height=6,
        patternUnits="userSpaceOnUse",
        patternTransform="rotate(45)",
    )
    _el(hatch, "rect", width=6, height=6, class_="tl-hatch-bg")
    _el(hatch, "line", x1=0, y1=0, x2=0, y2=6, class_="tl-hatch-line")
    for side, stops in (("left", ("0", "1")), ("right", ("1", "0"))):
        grad = _el(d, "linearGradient", id=f"tl-open-{side}")
        _el(grad, "stop", offset="0", class_="tl-open-stop", stop_opacity=stops[0])
        _el(grad, "stop", offset="1", class_="tl-open-stop", stop_opacity=stops[1])


def line(parent: ET.Element, x1: float, y1: float, x2: float, y2: float, cls: str) -> None:
    """A line whose stroke keeps its width however far the script stretches time."""
    _el(parent, "line", x1=x1, y1=y1, x2=x2, y2=y2, class_=cls, vector_effect="non-scaling-stroke")


def label(parent: ET.Element, x: float, y: float, text: str, cls: str) -> None:
    """Text at (x, y); `data-x`/`data-y` let the script scale it back to its own size."""
    node = _el(parent, "text", class_=cls, data_x=x, data_y=y, transform=f"translate({x} {y})")
    node.text = text


def draw_axis(svg: ET.Element, scale: Scale, height: float) -> None:
    axis = _el(svg, "g", class_="tl-axis", aria_hidden="true")
    line(axis, LEFT, AXIS_H - 6, WIDTH - RIGHT, AXIS_H - 6, "tl-axis-line")
    levels = tick_levels(scale)
    shown = shown_level(levels, scale)
    month_px = 30.44 / scale.days * (WIDTH - LEFT - RIGHT)
    for index, (step, days) in enumerate(levels):
        visibility = None if index == shown else "hidden"
        level = _el(axis, "g", class_="tl-ticks", data_step=step,
                    data_px=round(step * month_px, 3), visibility=visibility)  # fmt: skip
        for day in days:
            x = scale.x(day)
            line(level, x, AXIS_H - 10, x, height, "tl-grid")
            label(level, x, AXIS_H - 14, tick_label(day, step), "tl-tick")


def draw_group(svg: ET.Element, group: Group, scale: Scale) -> None:
    top = AXIS_H + group.y
    g = _el(svg, "g", class_="tl-group", data_event=group.root.event.pk)
    if group.rows > 1:
        width, height = group.x1 - group.x0, group.height - 4
        _el(g, "rect", x=group.x0, y=top, width=width, height=height, rx=4,
            class_="tl-group-box", vector_effect="non-scaling-stroke")  # fmt: skip
    for mark in group.members:
        draw_mark(g, mark, scale, top + 6 + mark.row * ROW_H)


def draw_mark(parent: ET.Element, mark: Mark, scale: Scale, y: float) -> None:
    """One event: a link (to its page) holding its tooltip, whisker, shape and label."""
    event = mark.event
    classes = f"tl-event tl-{mark.kind}" + (" tl-child" if mark.depth else "")
    href = reverse("event-detail", args=[event.pk])
    link = _el(parent, "a", href=href, class_=classes, data_id=event.pk)
    where = f", {event.place}" if event.place else ""
    _el(link, "title").text = f"{event.name} — {event.date}{where}"
    if mark.fuzzy:
        fuzzy_x0, fuzzy_x1 = scale.x(mark.fuzzy[0]), scale.x(mark.fuzzy[1], end=True)
        line(link, fuzzy_x0, y + BAR_H / 2, fuzzy_x1, y + BAR_H / 2, "tl-whisker")
    x0, x1 = scale.x(mark.start), scale.x(mark.end, end=True)
    if mark.kind == "point" or (mark.kind == "uncertain" and mark.start == mark.end):
        centre = (x0 + x1) / 2
        _el(link, "rect", x=centre - POINT_W / 2, y=y - 2, width=POINT_W, height=BAR_H + 4,
            class_="tl-point", data_cx=centre, data_w=POINT_W)  # fmt: skip
    else:
        _el(link, "rect", x=x0, y=y, width=max(x1 - x0, 1), height=BAR_H, rx=2,
            class_="tl-bar", fill=open_fill(mark))  # fmt: skip
    label(link, max(x0, LEFT), y + BAR_H + 13, event.name, "tl-label")


def open_fill(mark: Mark) -> str | None:
    if mark.start is None:
        return "url(#tl-open-left)"
    if mark.end is None:
        return "url(#tl-open-right)"
    return "url(#tl-hatch)" if mark.kind in ("reduced", "uncertain") else None


def events_for_timeline(library) -> list[Event]:
    # library_id is loaded too: the related manager checks it on every row it returns.
    fields = ("id", "library", "name", "date", "earliest", "latest", "place", "parent")
    return list(library.events.only(*fields))
