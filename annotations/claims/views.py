"""Pages for claims, events, the timeline, provenance and history. Each view parses the
request, calls one function that does the work, and renders; access goes through
`annotations.claims.access`, `sources.access` and `annotations.access` (404 unseen, 403
read-only)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotations.claims import claims as claim_work
from annotations.claims import events as event_work
from annotations.claims import jobs as claim_jobs
from annotations.claims import provenance, timeline
from annotations.claims.access import (
    get_claim_event_for_user,
    get_claim_for_user,
    get_event_for_user,
    get_evidence_for_user,
)
from annotations.claims.forms import (
    ClaimEventForm,
    ClaimFilterForm,
    ClaimForm,
    EventForm,
    EvidenceForm,
)
from annotations.claims.models import Claim
from core.http import history_page, history_revert, login_if_hidden
from jobs import queue
from jobs.models import Job
from sources.access import get_library_for_user
from sources.models import Library

PAGE_SIZE = 50


def _posted(request: HttpRequest) -> dict | None:
    return request.POST if request.method == "POST" else None


def _status(request: HttpRequest) -> int:
    return 400 if request.method == "POST" else 200


def _errors_into(form: Any, error: ValidationError) -> None:
    """A ValidationError from the work functions, shown on the form's fields."""
    for name, messages_ in error.message_dict.items():
        form.add_error(name if name in form.fields else None, messages_)


# --- claims -----------------------------------------------------------------------------


@require_GET
@login_if_hidden
def claim_list(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    form = ClaimFilterForm(request.GET, library=library)
    valid = form.is_valid()
    claims = Claim.objects.visible_to(request.user).filter(library=library)
    claims = claims.select_related("creator").prefetch_related("tags", "event_links__event")
    claims = claim_work.with_counts(claim_work.filter_claims(claims, form.query() if valid else {}))
    page = Paginator(claims.order_by("-modified", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "library": library,
        "form": form,
        "page": page,
        "can_edit": library.can_edit(request.user),
        "filtered": any(request.GET.get(n) for n in form.fields),
    }
    return render(
        request, "annotations/claims/claim_list.html", context, status=200 if valid else 400
    )


@require_http_methods(["GET", "POST"])
@login_required
def claim_create(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, write=True)
    form = ClaimForm(_posted(request), library=library, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            claim = claim_work.create_claim(
                library=library, creator=request.user, **form.work_fields()
            )
        except ValidationError as error:
            _errors_into(form, error)
        else:
            messages.success(request, "Claim saved. Add evidence from the sources' texts.")
            return redirect(claim)
    context = {"form": form, "library": library, "claim": None}
    return render(request, "annotations/claims/claim_form.html", context, status=_status(request))


@require_GET
@login_if_hidden
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_claim(request, get_claim_for_user(request.user, pk))


def _render_claim(
    request: HttpRequest, claim: Claim, *, status: int = 200, **extra: Any
) -> HttpResponse:
    page = claim_work.claim_page(claim, request.user)
    context = {
        "page": page,
        "claim": claim,
        "library": claim.library,
        "evidence_form": EvidenceForm(),
        "link_form": ClaimEventForm(claim=claim),
        **extra,
    }
    return render(request, "annotations/claims/claim_detail.html", context, status=status)


def _save_edit(
    request: HttpRequest, form: Any, obj: Any, update: Callable[[Any, dict], Any], noun: str
) -> tuple[HttpResponse | None, int]:
    """A posted edit form: (the saved object's page, _), or (None, the status to show the
    form again with: 409 when someone saved the object after the form was opened)."""
    status = _status(request)
    if request.method != "POST" or not form.is_valid():
        return None, status
    if form.conflicts():
        form.add_error(None, f"Someone saved this {noun} after you opened it. Reload to see it.")
        return None, 409
    try:
        update(obj, form.work_fields())
    except ValidationError as error:
        _errors_into(form, error)
        return None, status
    messages.success(request, f"{noun.capitalize()} saved.")
    return redirect(obj), status


@require_http_methods(["GET", "POST"])
@login_required
def claim_edit(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_claim_for_user(request.user, pk, write=True)
    form = ClaimForm(_posted(request), instance=claim, library=claim.library, user=request.user)
    saved, status = _save_edit(request, form, claim, claim_work.update_claim, "claim")
    if saved is not None:
        return saved
    context = {"form": form, "library": claim.library, "claim": claim}
    return render(request, "annotations/claims/claim_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def claim_delete(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_claim_for_user(request.user, pk, write=True)
    if request.method == "POST":
        claim.delete()
        messages.success(request, "Claim deleted; its highlights are kept.")
        return redirect("claim-list", slug=claim.library.slug)
    context = {
        "object": claim,
        "library": claim.library,
        "kind": "claim",
        "cancel": claim.get_absolute_url(),
    }
    return render(request, "annotations/claims/claim_confirm_delete.html", context)


@require_POST
@login_required
def evidence_edit(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_evidence_for_user(request.user, pk, write=True)
    form = EvidenceForm(request.POST)
    if not form.is_valid():
        return _render_claim(
            request, evidence.claim, status=400, evidence_form=form, failed_evidence=evidence.pk
        )
    claim_work.update_evidence(evidence, form.cleaned_data)
    messages.success(request, "Evidence saved.")
    return redirect(f"{evidence.claim.get_absolute_url()}#evidence-{evidence.pk}")


@require_POST
@login_required
def evidence_delete(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = get_evidence_for_user(request.user, pk, write=True)
    evidence.delete()
    messages.success(request, "Evidence removed; the highlight itself is kept.")
    return redirect(evidence.claim)


@require_POST
@login_required
def claim_event_add(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_claim_for_user(request.user, pk, write=True)
    form = ClaimEventForm(request.POST, claim=claim)
    if form.is_valid():
        data = form.cleaned_data
        try:
            claim_work.link_event(
                claim, data["event"], relation=data["relation"], note=data["note"]
            )
        except ValidationError as error:
            _errors_into(form, error)
        else:
            messages.success(request, f"Linked to “{data['event'].name}”.")
            return redirect(f"{claim.get_absolute_url()}#events")
    return _render_claim(request, claim, status=400, link_form=form)


@require_POST
@login_required
def claim_event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    link = get_claim_event_for_user(request.user, pk)
    link.delete()
    messages.success(request, "Link to the event removed.")
    return redirect(f"{link.claim.get_absolute_url()}#events")


# --- provenance -------------------------------------------------------------------------


def _jsonld(document: dict, filename: str, request: HttpRequest) -> HttpResponse:
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2),
        content_type=f"{provenance.MEDIA_TYPE}; charset=utf-8",
    )
    disposition = "attachment" if request.GET.get("download") else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_GET
@login_if_hidden
def claim_provenance(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_claim_for_user(request.user, pk)
    document = provenance.claim_document(claim, request)
    return _jsonld(document, f"claim-{claim.pk}-provenance.jsonld", request)


@require_GET
@login_if_hidden
def library_provenance(request: HttpRequest, slug: str) -> HttpResponse:
    """The document, or for a large library the job that writes it (its page offers it)."""
    library = get_library_for_user(request.user, slug)
    if claim_jobs.is_large(library):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return redirect(_enqueue_provenance(request, library))
    document = provenance.library_document(library, request)
    return _jsonld(document, f"{library.slug}-provenance.jsonld", request)


def _enqueue_provenance(request: HttpRequest, library: Library) -> Job:
    base = request.build_absolute_uri("/")
    return queue.enqueue(claim_jobs.PROVENANCE, library=library, user=request.user, base=base)


# --- events and the timeline --------------------------------------------------------------


@require_GET
@login_if_hidden
def timeline_page(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    svg, plan = timeline.render(
        timeline.events_for_timeline(library), title=f"Timeline of {library.name}"
    )
    context = {
        "library": library,
        "svg": mark_safe(svg),  # noqa: S308 - built by ElementTree, escaped
        "plan": plan,
        "rows": event_work.outline(library, request.user),
        "can_edit": library.can_edit(request.user),
    }
    return render(request, "annotations/claims/timeline.html", context)


@require_GET
@login_if_hidden
def timeline_svg(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    svg, _ = timeline.render(
        timeline.events_for_timeline(library), title=f"Timeline of {library.name}"
    )
    return HttpResponse(
        f'<?xml version="1.0" encoding="utf-8"?>\n{svg}', content_type="image/svg+xml"
    )


@require_GET
@login_if_hidden
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_event_for_user(request.user, pk)
    within = request.GET.get("within") == "1"
    context = {
        "page": event_work.event_page(event, request.user, with_sub_events=within),
        "event": event,
        "library": event.library,
        "can_edit": event.library.can_edit(request.user),
    }
    return render(request, "annotations/claims/event_detail.html", context)


@require_http_methods(["GET", "POST"])
@login_required
def event_create(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, write=True)
    initial = {"parent": request.GET.get("parent")} if request.GET.get("parent") else None
    form = EventForm(_posted(request), library=library, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            event = event_work.create_event(
                library=library, creator=request.user, **form.work_fields()
            )
        except ValidationError as error:
            _errors_into(form, error)
        else:
            messages.success(request, f"Event “{event.name}” saved.")
            return redirect(event)
    context = {"form": form, "library": library, "event": None}
    return render(request, "annotations/claims/event_form.html", context, status=_status(request))


@require_http_methods(["GET", "POST"])
@login_required
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_event_for_user(request.user, pk, write=True)
    form = EventForm(_posted(request), instance=event, library=event.library)
    saved, status = _save_edit(request, form, event, event_work.update_event, "event")
    if saved is not None:
        return saved
    context = {"form": form, "library": event.library, "event": event}
    return render(request, "annotations/claims/event_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def event_delete(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_event_for_user(request.user, pk, write=True)
    if request.method == "POST":
        event.delete()
        messages.success(request, f"Event “{event.name}” deleted; its sub-events are kept.")
        return redirect("timeline", slug=event.library.slug)
    context = {
        "object": event,
        "library": event.library,
        "kind": "event",
        "cancel": event.get_absolute_url(),
    }
    return render(request, "annotations/claims/event_confirm_delete.html", context)


# --- history ----------------------------------------------------------------------------


@require_GET
@login_if_hidden
def claim_history(request: HttpRequest, pk: int) -> HttpResponse:
    claim = get_claim_for_user(request.user, pk)
    can_revert = Claim.objects.editable_by(request.user).filter(pk=pk).exists()
    return history_page(request, claim, name="claim", can_revert=can_revert)


@require_POST
@login_required
def claim_history_revert(request: HttpRequest, pk: int, history_id: int) -> HttpResponse:
    claim = get_claim_for_user(request.user, pk)
    can_revert = Claim.objects.editable_by(request.user).filter(pk=pk).exists()
    return history_revert(request, claim, history_id, name="claim", can_revert=can_revert)


@require_GET
@login_if_hidden
def event_history(request: HttpRequest, pk: int) -> HttpResponse:
    event = get_event_for_user(request.user, pk)
    can_revert = event.library.can_edit(request.user)
    return history_page(request, event, name="event", can_revert=can_revert)


@require_POST
@login_required
def event_history_revert(request: HttpRequest, pk: int, history_id: int) -> HttpResponse:
    event = get_event_for_user(request.user, pk)
    can_revert = event.library.can_edit(request.user)
    return history_revert(request, event, history_id, name="event", can_revert=can_revert)
