"""Deleting a highlight that is a claim's evidence, in Chromium: the reader is told and
chooses."""

from __future__ import annotations

from django.urls import reverse

from annotations.models import Annotation
from tests.annotations.claims.test_delete_evidence import quoted  # noqa: F401 (fixture)
from tests.browser.test_annotate import open_source


def test_the_reading_view_offers_to_delete_with_the_evidence(page, sign_in, bob, quoted):  # noqa: F811
    sign_in(page, bob)
    open_source(page, quoted.text.source)
    card = page.locator(f'.ann-card[data-id="{quoted.pk}"]')
    card.get_by_role("button", name="Delete").click()
    offer = card.get_by_role("button", name="Delete with its evidence")
    offer.wait_for(timeout=15_000)  # after the undo delay, the server refused
    assert "evidence of 1 claim" in card.inner_text()
    assert Annotation.objects.filter(pk=quoted.pk).exists()
    offer.click()
    card.wait_for(state="detached")
    assert not Annotation.objects.filter(pk=quoted.pk).exists()
    page.goto(reverse("source-detail", args=[quoted.text.source_id]))
    assert page.locator(f'.ann-card[data-id="{quoted.pk}"]').count() == 0
    assert page.js_errors == []
