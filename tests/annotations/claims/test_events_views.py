"""The event pages and the timeline page."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from annotations.claims.claims import EventLink
from annotations.claims.models import Event
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_source,
    make_text,
)

SVG = "{http://www.w3.org/2000/svg}"


def url(name: str, *args) -> str:
    return reverse(name, args=args)


@pytest.fixture
def visit(library, alice):
    return make_event(
        library=library, creator=alice, place="Moscow", participants=["Mao Zedong", "Joseph Stalin"]
    )


@pytest.fixture
def disputed(library, alice, bob, visit):
    record = make_source(library=library, title="Roshchin's record", kind="primary", language="ru")
    article = make_source(library=library, title="Face and Something Delicious", kind="secondary")
    ru = make_text(source=record, text="я намерен отдохнуть еще одну неделю в полном покое")
    en = make_text(source=article, text="Stalin refused to see Mao for days.")
    claim = make_claim(
        library=library,
        creator=alice,
        statement="Stalin kept Mao waiting",
        events=[EventLink(visit)],
    )
    make_evidence(
        claim=claim,
        annotation=make_annotation(
            text=en, creator=bob, quote="Stalin refused to see Mao for days"
        ),
        creator=bob,
    )
    make_evidence(
        claim=claim,
        annotation=make_annotation(text=ru, creator=bob, quote="отдохнуть еще одну неделю"),
        creator=bob,
        stance="contradicts",
    )
    return claim


def test_event_page_shows_sources_disagreeing_side_by_side(as_user, vera, visit, disputed):
    body = as_user(vera).get(url("event-detail", visit.pk)).content.decode()
    assert "Sources disagree" in body
    assert 'class="side-by-side disagreement"' in body
    supporting = body.index("Supporting")
    contradicting = body.index("Contradicting")
    assert supporting < body.index("Stalin refused to see Mao for days") < contradicting
    assert contradicting < body.index("отдохнуть еще одну неделю")
    assert 'lang="ru"' in body
    assert body.count('class="kind kind-primary"') >= 1 and 'class="kind kind-secondary"' in body
    assert "16 December 1949 – 17 February 1950" in body
    assert "person:Mao Zedong" not in body and "Mao Zedong</a>" in body  # labels, not tag names


def test_event_page_lists_sub_events_and_breadcrumbs_of_parents(as_user, vera, library, visit):
    treaty = make_event(library=library, name="Treaty signed", date="1950-02-14", parent=visit)
    body = as_user(vera).get(url("event-detail", treaty.pk)).content.decode()
    assert visit.get_absolute_url() in body
    assert treaty.name in as_user(vera).get(url("event-detail", visit.pk)).content.decode()


def test_event_page_rolls_up_the_claims_about_the_events_within_it(
    as_user, alice, bob, vera, library, visit
):
    treaty = make_event(library=library, name="Treaty signed", date="1950-02-14", parent=visit)
    clause = make_event(
        library=library, name="Port Arthur clause", date="1950-02-14", parent=treaty
    )
    make_claim(library=library, creator=alice, statement="Signed on the 14th",
               events=[EventLink(treaty, relation="dates")])  # fmt: skip
    make_claim(library=library, creator=alice, statement="Port Arthur returned by 1952",
               events=[EventLink(clause)])  # fmt: skip
    make_claim(library=library, creator=bob, statement="Bob's private hunch",
               events=[EventLink(clause)], visibility="private")  # fmt: skip
    own = as_user(vera).get(url("event-detail", visit.pk)).content.decode()
    assert "Signed on the 14th" not in own and "Include the claims about the events" in own
    rolled = as_user(vera).get(url("event-detail", visit.pk) + "?within=1").content.decode()
    assert "Signed on the 14th" in rolled and "Port Arthur returned by 1952" in rolled
    assert "Bob&#x27;s private hunch" not in rolled and "private hunch" not in rolled
    assert f'<a href="{clause.get_absolute_url()}">Port Arthur clause</a>, within it' in rolled
    assert "The date in the sources" not in rolled  # a sub-event's date is its own
    assert "Only this event’s own claims" in rolled


def test_event_page_access(as_user, mallory, vera, visit):
    assert as_user(mallory).get(url("event-detail", visit.pk)).status_code == 404
    assert as_user(vera).post(url("event-detail", visit.pk)).status_code == 405
    assert (
        url("event-edit", visit.pk)
        not in as_user(vera).get(url("event-detail", visit.pk)).content.decode()
    )


def test_editor_creates_an_event_with_a_parent(as_user, bob, library, visit):
    response = as_user(bob).post(
        url("event-create", library.slug),
        {
            "name": "Treaty signed",
            "date": "1950-02-14",
            "place": "Moscow",
            "parent": visit.pk,
            "wikidata_id": "",
            "description": "",
            "participants": "Zhou Enlai",
        },
    )
    treaty = Event.objects.get(name="Treaty signed")
    assert response.status_code == 302 and response["Location"] == treaty.get_absolute_url()
    assert treaty.parent == visit and [t.name for t in treaty.participants.all()] == [
        "person:Zhou Enlai"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date", "1950-02-17/1949-12-16", "ends before it starts"),
        ("date", "February 1950", "is not an EDTF date"),
        ("wikidata_id", "P31", "not a Wikidata item id"),
    ],
)
def test_invalid_event_form_is_400(as_user, bob, library, field, value, message):
    form = {
        "name": "x",
        "date": "",
        "place": "",
        "wikidata_id": "",
        "description": "",
        "participants": "",
        field: value,
    }
    response = as_user(bob).post(url("event-create", library.slug), form)
    assert response.status_code == 400 and message in response.content.decode()
    assert not Event.objects.filter(name="x").exists()


def test_the_edit_form_offers_no_parent_that_would_make_a_cycle(as_user, bob, library, visit):
    treaty = make_event(library=library, name="Treaty signed", date="1950-02-14", parent=visit)
    other = make_event(library=library, name="Split", date="1960")
    body = as_user(bob).get(url("event-edit", visit.pk)).content.decode()
    assert f'value="{other.pk}"' in body and f'value="{treaty.pk}"' not in body
    form = {
        "name": visit.name,
        "date": visit.date,
        "place": "",
        "wikidata_id": "",
        "description": "",
        "participants": "",
        "parent": treaty.pk,
        "expected_version": visit.version,
    }
    assert as_user(bob).post(url("event-edit", visit.pk), form).status_code == 400
    visit.refresh_from_db()
    assert visit.parent is None


def test_an_event_edited_since_the_form_was_opened_is_a_409_naming_it(as_user, bob, visit):
    form = {
        "name": "Renamed",
        "date": visit.date,
        "place": "",
        "wikidata_id": "",
        "description": "",
        "participants": "",
        "parent": "",
        "expected_version": visit.version,
    }
    Event.objects.filter(pk=visit.pk).update(version=visit.version + 1)
    response = as_user(bob).post(url("event-edit", visit.pk), form)
    assert response.status_code == 409
    assert "Someone saved this event after you opened it" in response.content.decode()
    visit.refresh_from_db()
    assert visit.name != "Renamed"
    form["expected_version"] = visit.version
    saved = as_user(bob).post(url("event-edit", visit.pk), form)
    assert saved.status_code == 302 and Event.objects.get(pk=visit.pk).name == "Renamed"


def test_viewer_cannot_create_edit_or_delete_events(as_user, vera, library, visit):
    client = as_user(vera)
    assert client.get(url("event-create", library.slug)).status_code == 403
    assert client.get(url("event-edit", visit.pk)).status_code == 403
    assert client.post(url("event-delete", visit.pk)).status_code == 403


def test_editor_deletes_an_event(as_user, bob, library, visit):
    response = as_user(bob).post(url("event-delete", visit.pk))
    assert response.status_code == 302 and response["Location"] == url("timeline", library.slug)
    assert not Event.objects.exists()


# --- the timeline page --------------------------------------------------------------------------


def svg_of(body: str) -> ET.Element:
    start, end = body.index("<svg"), body.index("</svg>") + len("</svg>")
    return ET.fromstring(body[start:end])


def test_timeline_draws_events_as_links_to_their_pages(as_user, vera, library, visit):
    treaty = make_event(library=library, name="Treaty signed", date="1950-02-14", parent=visit)
    make_event(library=library, name="Conversation", date="1950?-01-01", parent=visit)
    make_event(library=library, name="Specialists withdrawn", date="1960-07")
    make_event(library=library, name="Undated thing", date="")
    response = as_user(vera).get(url("timeline", library.slug))
    assert response.status_code == 200
    svg = svg_of(response.content.decode())
    links = {a.get("href"): a for a in svg.iter(f"{SVG}a")}
    assert treaty.get_absolute_url() in links and visit.get_absolute_url() in links
    assert len(links) == 4  # the undated event is only in the list below
    kinds = {a.findtext(f"{SVG}text"): a.get("class") for a in links.values()}
    assert "tl-interval" in kinds[visit.name] and "tl-point" in kinds["Treaty signed"]
    assert (
        "tl-uncertain" in kinds["Conversation"] and "tl-reduced" in kinds["Specialists withdrawn"]
    )
    assert svg.find(f".//{SVG}line[@class='tl-whisker']") is not None
    groups = [g for g in svg.iter(f"{SVG}g") if g.get("class") == "tl-group"]
    nested = next(g for g in groups if g.get("data-event") == str(visit.pk))
    assert len(nested.findall(f"{SVG}a")) == 3 and nested.find(f"{SVG}rect") is not None
    assert "Undated thing" in response.content.decode()


def test_timeline_svg_download_is_svg(as_user, vera, library, visit):
    response = as_user(vera).get(url("timeline-svg", library.slug))
    assert response["Content-Type"] == "image/svg+xml"
    assert ET.fromstring(response.content).tag == f"{SVG}svg"


def test_timeline_escapes_names(as_user, alice, library):
    make_event(library=library, creator=alice, name='<script>alert("x")</script> & co', date="1950")
    body = as_user(alice).get(url("timeline", library.slug)).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;" in body


def test_timeline_access(as_user, mallory, library):
    assert as_user(mallory).get(url("timeline", library.slug)).status_code == 404
    assert as_user(mallory).get(url("timeline-svg", library.slug)).status_code == 404
    assert as_user(None).post(url("timeline", library.slug)).status_code == 405


def test_empty_timeline_says_so(as_user, alice, library):
    body = as_user(alice).get(url("timeline", library.slug)).content.decode()
    assert "No dated events yet" in body and "<svg" not in body


def test_labels_of_late_events_end_inside_the_picture(library, alice):
    from annotations.claims.timeline import CHAR_W, WIDTH, render

    make_event(library=library, creator=alice, name="Visit", date="1949-12-16/1950-02-17")
    make_event(library=library, creator=alice, name="A very long name " * 4, date="1969-03-02")
    svg = ET.fromstring(render(library.events.all())[0])
    for label in svg.iter(f"{SVG}text"):
        if label.get("class") == "tl-label":
            assert float(label.get("data-x")) + len(label.text) * CHAR_W <= WIDTH
