"""The jobs' API: what it answers when it hands work to a background job (202 Accepted and
where to follow it), a job's status, and its file, for clients that sign in with a token
(the pages' `/jobs/<id>.json` and `/jobs/<id>/download/` take the session only).

The rules are `jobs.queue`'s: a job is seen by whoever started it, by its library's owners
and, for site-wide jobs, by staff (404 for anyone else); its file is downloaded only by
whoever started it (403 for the others who see it).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import queue
from jobs.models import Job

NOT_FOUND = OpenApiResponse(description="No such job, or not one you may see.")


def status_of(request: Request, job: Job) -> dict[str, Any]:
    """The job's status (`jobs.queue.job_status`) with the API's own addresses."""
    body = queue.job_status(job, request.user)
    body["status_url"] = request.build_absolute_uri(reverse("api-job-detail", args=[job.pk]))
    if body["download_url"]:
        body["download_url"] = request.build_absolute_uri(
            reverse("api-job-download", args=[job.pk])
        )
    return body


def accepted(request: Request, job: Job) -> Response:
    """202 with the job's status; Location is the status a client polls."""
    body = status_of(request, job)
    headers = {"Location": body["status_url"]}
    return Response(body, status=status.HTTP_202_ACCEPTED, headers=headers)


class JobView(APIView):
    """A background job's progress, result or error (poll it after a 202)."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: OpenApiTypes.OBJECT, 404: NOT_FOUND})
    def get(self, request: Request, pk: int) -> Response:
        return Response(status_of(request, queue.get_job_for_user(request.user, pk)))


class JobDownloadView(APIView):
    """The file a job made (an export, a backup), for whoever started it."""

    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="Only whoever started the job downloads it."),
            404: NOT_FOUND,
        }
    )
    def get(self, request: Request, pk: int) -> HttpResponse:
        job = queue.get_job_for_user(request.user, pk)
        data = queue.output_of(job, request.user)
        if data is None:
            raise NotFound("This job has no file (yet).")
        response = HttpResponse(data, content_type=job.output_type or "application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="{job.output_name}"'
        response["Cache-Control"] = "private, no-store"
        return response
