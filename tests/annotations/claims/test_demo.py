"""The demo library's claims and events, built from its two real texts."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from annotations.claims.demo import CLAIMS_FILE, DemoError, load_demo_claims
from annotations.claims.events import event_page
from annotations.claims.models import Claim, Event
from annotations.models import Annotation
from sources.models import Library


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=StringIO())
    library = Library.objects.get(slug="mao-in-moscow")
    user = get_user_model().objects.get(username="demo")
    return library, user


def test_demo_claims_are_built_from_exact_quotes_and_are_idempotent(demo):
    library, user = demo
    counts = load_demo_claims(library, user)
    assert counts == {"events": 7, "claims": 10, "evidence": 15}
    assert load_demo_claims(library, user) == counts
    for annotation in Annotation.objects.filter(library=library):
        assert annotation.text.text[annotation.start : annotation.end] == annotation.exact
        assert annotation.text.source.current_text == annotation.text


def test_the_visit_page_shows_the_primary_record_against_the_compilation(demo, client):
    library, user = demo
    load_demo_claims(library, user)
    visit = Event.objects.get(library=library, name="Mao Zedong's visit to Moscow")
    page = event_page(visit, user)
    disputed = [view for view in page.claims if view.disagreement]
    assert [v.claim.statement[:45] for v in disputed] == [
        "After their first meeting, Stalin kept Mao wa"
    ]
    assert {q.is_primary for q in disputed[0].supports} == {False}
    assert {q.is_primary for q in disputed[0].contradicts} == {True}
    agree, disagree = page.dating
    assert agree and disagree  # a date claim and a contradicting one, side by side
    client.force_login(user)
    body = client.get(reverse("event-detail", args=[visit.pk])).content.decode()
    assert "Sources disagree" in body and "In December , Mao Zedong traveled to Moscow" in body


def test_demo_events_nest_and_carry_an_uncertain_date(demo):
    library, user = demo
    load_demo_claims(library, user)
    conversation = Event.objects.get(
        library=library, name="Roshchin's conversation with Mao Zedong"
    )
    assert conversation.date == "1950?-01-01" and conversation.parent.name.startswith("Mao Zedong")
    assert Claim.history.filter(history_user=user).exists()


def test_a_quote_missing_from_the_text_stops_the_load(demo, tmp_path):
    library, user = demo
    # load_demo already built the claims; start from a library without them.
    Claim.objects.all().delete()
    Event.objects.all().delete()
    Annotation.objects.all().delete()
    spec = json.loads(CLAIMS_FILE.read_text(encoding="utf-8"))
    spec["claims"][0]["evidence"][0]["quote"] = "words that are not in the compilation"
    broken = tmp_path / "claims.json"
    broken.write_text(json.dumps(spec), encoding="utf-8")
    with pytest.raises(DemoError, match="Quote not in compilationmaostalin"):
        load_demo_claims(library, user, path=broken)
    assert not Claim.objects.exists() and not Event.objects.exists()
