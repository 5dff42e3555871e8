"""Events as work functions: EDTF dates, Wikidata ids, nesting without cycles,
participants, and what the event page gathers (stances, disagreements, dates)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from annotations.claims.claims import EventLink
from annotations.claims.events import (
    descendant_ids,
    describe_date,
    event_page,
    normalise_wikidata,
    outline,
    update_event,
)
from annotations.claims.models import Event
from annotations.models import Visibility
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_library,
    make_source,
    make_text,
)


def test_event_dates_derive_earliest_and_latest(library):
    visit = make_event(library=library, date="1949-12-16/1950-02-17")
    assert (visit.earliest, visit.latest) == (dt.date(1949, 12, 16), dt.date(1950, 2, 17))
    decade = make_event(library=library, name="Split", date="196X")
    assert (decade.earliest, decade.latest) == (dt.date(1960, 1, 1), dt.date(1969, 12, 31))
    undated = make_event(library=library, name="Undated", date="")
    assert undated.earliest is None and undated.latest is None


@pytest.mark.parametrize("date", ["1950-13-01", "sometime in 1950", "1950-02-17/1949-12-16"])
def test_bad_dates_are_refused_naming_date(library, date):
    with pytest.raises(ValidationError) as error:
        make_event(library=library, date=date)
    assert "date" in error.value.message_dict
    assert not Event.objects.exists()


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("Q42", "Q42"),
        ("q1153463", "Q1153463"),
        ("https://www.wikidata.org/wiki/Q5816", "Q5816"),
        ("http://wikidata.org/entity/Q855", "Q855"),
        ("", ""),
    ],
)
def test_wikidata_ids_are_normalised(typed, stored):
    assert normalise_wikidata(typed) == stored


@pytest.mark.parametrize("typed", ["42", "Q0", "Q-1", "P31", "https://example.org/wiki/Q42"])
def test_bad_wikidata_ids_are_refused(library, typed):
    with pytest.raises(ValidationError) as error:
        make_event(library=library, wikidata_id=typed)
    assert "wikidata_id" in error.value.message_dict


def test_participants_are_person_tags_unless_namespaced(library):
    visit = make_event(library=library, participants=["Mao Zedong", "org:Politburo"])
    assert sorted(t.name for t in visit.participants.all()) == [
        "org:Politburo",
        "person:Mao Zedong",
    ]
    assert {t.namespace for t in visit.participants.all()} == {"person", "org"}


def test_a_parent_cannot_be_the_event_or_inside_it(library):
    visit = make_event(library=library)
    treaty = make_event(library=library, name="Treaty", date="1950-02-14", parent=visit)
    signing = make_event(library=library, name="Signing", date="1950-02-14", parent=treaty)
    assert descendant_ids(visit) == {treaty.pk, signing.pk}
    for parent in (visit, signing):
        with pytest.raises(ValidationError) as error:
            update_event(visit, {"parent": parent, "name": "Renamed"})
        assert "parent" in error.value.message_dict
    visit.refresh_from_db()
    assert visit.parent is None and visit.name == "Mao's visit to Moscow"


def test_a_parent_from_another_library_is_refused(library, mallory):
    foreign = make_event(library=make_library(owner=mallory, name="Mallory's"))
    with pytest.raises(ValidationError) as error:
        make_event(library=library, parent=foreign)
    assert "parent" in error.value.message_dict


def test_editing_bumps_the_version_and_keeps_history(library, alice):
    visit = make_event(library=library, creator=alice)
    update_event(visit, {"place": "Moscow", "participants": ["Mao Zedong"]})
    visit.refresh_from_db()
    assert visit.version == 2 and visit.place == "Moscow"
    assert visit.history.count() >= 2


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("1949-12-16/1950-02-17", "16 December 1949 – 17 February 1950"),
        ("1950-02-14", "14 February 1950"),
        ("1950?-01-01", "1 January 1950 (uncertain)"),
        ("1960-07", "1 July 1960 – 31 July 1960"),
        ("1950-01-01~", "1 January 1950 (approximate)"),
    ],
)
def test_dates_in_words(library, date, words):
    assert describe_date(make_event(library=library, date=date)) == words


@pytest.fixture
def disagreement(library, alice, bob):
    """A claim about the visit with a secondary source for and a primary one against."""
    record = make_source(library=library, title="Record of conversation", kind="primary")
    article = make_source(
        library=library, title="Magazine article", kind="secondary", csl_type="article-magazine"
    )
    record_text = make_text(source=record, text="Mao asked to rest another week in full quiet.")
    article_text = make_text(source=article, text="Stalin refused to see Mao for days.")
    visit = make_event(library=library)
    claim = make_claim(
        library=library,
        creator=alice,
        statement="Stalin kept Mao waiting",
        events=[EventLink(visit)],
    )
    make_evidence(
        claim=claim,
        annotation=make_annotation(
            text=article_text, creator=bob, quote="Stalin refused to see Mao"
        ),
        creator=bob,
    )
    make_evidence(
        claim=claim,
        annotation=make_annotation(text=record_text, creator=bob, quote="rest another week"),
        creator=bob,
        stance="contradicts",
    )
    return visit, claim, record, article


def test_event_page_groups_claims_and_shows_the_disagreement(disagreement, vera):
    visit, claim, record, article = disagreement
    page = event_page(visit, vera)
    [(key, _, _, views)] = page.groups
    assert key == "disputed" and views[0].claim == claim and views[0].disagreement
    assert [q.source for q in views[0].supports] == [article]
    assert [q.source for q in views[0].contradicts] == [record]
    assert views[0].contradicts[0].is_primary and not views[0].supports[0].is_primary
    assert page.sources == ([record], [article])


def test_event_page_hides_quotes_a_reader_may_not_see(disagreement, vera, bob):
    visit, claim, record, _ = disagreement
    from annotations.models import Annotation

    Annotation.objects.filter(text__source=record).update(visibility=Visibility.PRIVATE)
    view = event_page(visit, vera).claims[0]
    assert view.contradicts == [] and view.group == "supported"
    assert event_page(visit, bob).claims[0].group == "disputed"  # bob made them


def test_dating_puts_date_claims_beside_contradicting_ones(library, alice):
    visit = make_event(library=library)
    dates = make_claim(
        library=library,
        creator=alice,
        statement="Arrived mid-December",
        events=[EventLink(visit, "dates")],
    )
    contradicts = make_claim(
        library=library,
        creator=alice,
        statement="Left end of January",
        events=[EventLink(visit, "contradicts-date")],
    )
    agree, disagree = event_page(visit, alice).dating
    assert [v.claim for v in agree] == [dates] and [v.claim for v in disagree] == [contradicts]


def test_outline_nests_sub_events_under_their_parent(library, alice):
    visit = make_event(library=library)
    treaty = make_event(library=library, name="Treaty", date="1950-02-14", parent=visit)
    split = make_event(library=library, name="Split", date="1960")
    make_claim(library=library, creator=alice, events=[EventLink(treaty)])
    rows = outline(library, alice)
    assert [(r.event, r.depth, r.claims) for r in rows] == [
        (visit, 0, 0),
        (treaty, 1, 1),
        (split, 0, 0),
    ]
