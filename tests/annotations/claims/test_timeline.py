"""The timeline's drawing rules: uncertain spans as the edtf library computes them,
groups stacked without overlapping, ticks that fit."""

from __future__ import annotations

import datetime as dt

import edtf
import pytest

from annotations.claims.claims import EventLink
from annotations.claims.events import outline
from annotations.claims.timeline import Scale, _day, fuzzy_bounds, layout, tick_levels
from tests.factories import make_claim, make_event


@pytest.mark.parametrize(
    "value",
    ["1950?-01-01", "1960-07?", "1950-01-01~", "1950%", "1952-02-29~", "1950-12-31?",
     "1950-01?-15", "1950~-06", "1949-12%", "2000-01-31%", "1950?"],
)  # fmt: skip
def test_uncertain_spans_match_the_edtf_library(value):
    parsed = edtf.parse_edtf(value)
    assert fuzzy_bounds(value) == (_day(parsed.lower_fuzzy()), _day(parsed.upper_fuzzy()))


def test_groups_that_share_time_are_stacked_and_others_share_a_row(library):
    make_event(library=library, name="A", date="1950/1955")
    make_event(library=library, name="B", date="1951/1953")
    make_event(library=library, name="C", date="1990/1995")
    plan = layout(library.events.all())
    by_name = {group.root.event.name: group for group in plan.groups}
    a, b, c = by_name["A"], by_name["B"], by_name["C"]
    assert a.y != b.y and (a.y + a.height <= b.y or b.y + b.height <= a.y)
    assert c.y == 0


def test_nested_events_are_drawn_in_their_parents_group(library):
    visit = make_event(library=library, name="Visit")
    make_event(library=library, name="Treaty", date="1950-02-14", parent=visit)
    make_event(library=library, name="Meeting", date="1949-12-16", parent=visit)
    [group] = layout(library.events.all()).groups
    assert [m.event.name for m in group.members] == ["Visit", "Meeting", "Treaty"]
    assert group.members[0].row == 0 and group.rows >= 2


def test_ticks_offer_decades_down_to_months():
    scale = Scale(dt.date(1945, 1, 1), dt.date(1975, 12, 31))
    steps = [step for step, _ in tick_levels(scale)]
    assert steps[0] >= 60 and steps[-1] == 1
    assert all(a > b for a, b in zip(steps, steps[1:], strict=False))


def test_the_outline_counts_only_the_claims_the_viewer_may_see(library, alice, bob, vera):
    visit = make_event(library=library, name="Visit")
    make_claim(library=library, creator=alice, events=[EventLink(visit)])
    make_claim(library=library, creator=bob, events=[EventLink(visit)], visibility="private")
    counts = {user.username: outline(library, user)[0].claims for user in (alice, bob, vera)}
    assert counts == {"alice": 1, "bob": 2, "vera": 1}


def test_the_timeline_page_does_not_count_a_private_claim(as_user, library, bob, vera):
    library.is_public = True
    library.save()
    visit = make_event(library=library, name="Visit")
    make_claim(library=library, creator=bob, events=[EventLink(visit)], visibility="private")
    for client in (as_user(vera), as_user(None)):
        page = client.get(f"/libraries/{library.slug}/timeline/").content.decode()
        assert "<td>0</td>" in page and "<td>1</td>" not in page
    assert "<td>1</td>" in as_user(bob).get(f"/libraries/{library.slug}/timeline/").content.decode()
