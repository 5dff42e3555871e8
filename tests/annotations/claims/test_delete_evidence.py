"""Deleting a highlight that is a claim's evidence takes the evidence away: the API says so
(409) and does it only when asked; the reading view offers the choice."""

from __future__ import annotations

import pytest

from annotations.claims.models import Evidence
from annotations.models import Annotation
from tests.factories import make_annotation, make_claim, make_evidence, make_source, make_text

TEXT = "Mao said the treaty mattered more than the loan."


@pytest.fixture
def quoted(library, bob):
    source = make_source(library=library, title="Conversation")
    text = make_text(source=source, text=TEXT, imported_by=bob)
    quote = make_annotation(text=text, creator=bob, quote="the treaty mattered")
    claim = make_claim(library=library, creator=bob, statement="The treaty came first.")
    make_evidence(claim=claim, annotation=quote, creator=bob)
    return quote


def _delete(client, annotation, query=""):
    etag = client.get(f"/api/annotations/{annotation.pk}/")["ETag"]
    return client.delete(f"/api/annotations/{annotation.pk}/{query}", HTTP_IF_MATCH=etag)


@pytest.mark.django_db
def test_deleting_evidence_is_refused_until_asked_for(as_user, bob, quoted):
    client = as_user(bob)
    refused = _delete(client, quoted)
    assert refused.status_code == 409
    assert refused.json()["evidence"] == 1
    assert "evidence of 1 claim" in refused.json()["detail"]
    assert Annotation.objects.filter(pk=quoted.pk).exists() and Evidence.objects.count() == 1

    assert _delete(client, quoted, "?with_evidence=true").status_code == 204
    assert not Annotation.objects.filter(pk=quoted.pk).exists()
    assert Evidence.objects.count() == 0
    assert Evidence.history.filter(history_type="-").count() == 1  # kept in the history


@pytest.mark.django_db
def test_a_highlight_that_is_no_evidence_is_deleted_at_once(as_user, bob, quoted):
    plain = make_annotation(text=quoted.text, creator=bob, quote="the loan")
    assert _delete(as_user(bob), plain).status_code == 204
