"""The reading view's claims panel (`templates/annotations/claim_panel.html`): its
configuration for `static/js/claims.js`, and the claims that already cite the source."""

from __future__ import annotations

from typing import Any

from django import template
from django.db.models import QuerySet
from django.middleware.csrf import get_token
from django.urls import reverse

from annotations.claims.models import Claim, ClaimStatus, EventRelation, Evidence, Stance
from sources.models import SourceText

register = template.Library()
EVENT_CHOICES_MAX = 500


@register.simple_tag(takes_context=True)
def claim_reader_config(context: template.Context, text: SourceText) -> dict[str, Any]:
    request = context["request"]
    library = text.source.library
    current = text.source.texts.order_by("-revision").values_list("pk", flat=True).first()
    return {
        "text": text.pk,
        "library": library.slug,
        # Claims are made on the current revision, as highlights are.
        "canEdit": current == text.pk and library.can_edit(request.user),
        "csrfToken": get_token(request),
        "api": {
            "claims": reverse("api-claim-list"),
            "fromHighlight": reverse("api-claim-from-highlight"),
            "evidence": reverse("api-evidence-list"),
            "annotations": reverse("api-annotation-list"),
        },
    }


@register.simple_tag(takes_context=True)
def claim_panel_choices(context: template.Context, text: SourceText) -> dict[str, Any]:
    library = text.source.library
    events = library.events.only("id", "name", "date")[:EVENT_CHOICES_MAX]
    return {
        "events": list(events),
        "relations": EventRelation.choices,
        "stances": Stance.choices,
        "statuses": ClaimStatus.choices,
    }


@register.simple_tag(takes_context=True)
def claims_citing(context: template.Context, text: SourceText) -> QuerySet[Claim]:
    """Claims with visible evidence quoted from any revision of this text's source."""
    user = context["request"].user
    evidence = Evidence.objects.visible_to(user).filter(annotation__text__source_id=text.source_id)
    return (
        Claim.objects.filter(pk__in=evidence.values("claim_id"))
        .order_by("-modified", "-pk")
        .only("id", "statement", "status", "rank")
    )
