"""Pages of annotations: their history. An annotation is read, made and changed on its
source's page (`templates/annotations/_reader.html`, through the API)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET, require_POST

from annotations.access import get_annotation_for_user
from annotations.models import Annotation
from core.http import history_page, history_revert, login_if_hidden


def _can_revert(request: HttpRequest, pk: int) -> bool:
    return Annotation.objects.editable_by(request.user).filter(pk=pk).exists()


@require_GET
@login_if_hidden
def annotation_history(request: HttpRequest, pk: int) -> HttpResponse:
    annotation = get_annotation_for_user(request.user, pk)
    return history_page(request, annotation, name="annotation", can_revert=_can_revert(request, pk))


@require_POST
@login_required
def annotation_history_revert(request: HttpRequest, pk: int, history_id: int) -> HttpResponse:
    annotation = get_annotation_for_user(request.user, pk)
    can_revert = _can_revert(request, pk)
    return history_revert(request, annotation, history_id, name="annotation", can_revert=can_revert)
