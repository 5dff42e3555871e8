"""Pages and JSON of background jobs: progress, result or error, retry, download.

Thin views over `sources.jobs`: a job is seen by its library's members and by whoever
started it; `jobs.get_job_for_user` answers 404 for anyone else.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from sources import jobs
from sources.access import get_library_for_user
from sources.models import Job, JobKind

LIST_SIZE = 100


@require_GET
@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = jobs.get_job_for_user(request.user, pk)
    return _render_job(request, job)


def _render_job(request: HttpRequest, job: Job, status: int = 200) -> HttpResponse:
    context = {
        "job": job,
        "library": job.library,
        "can_retry": job.is_retryable and jobs.may_retry(job, request.user),
    }
    return render(request, "sources/job_detail.html", context, status=status)


@never_cache
@require_GET
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by static/js/jobs.js while the job runs."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Sign in to follow this job."}, status=401)
    job = jobs.get_job_for_user(request.user, pk)
    return JsonResponse(jobs.job_status(job))


@require_POST
@login_required
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = jobs.get_job_for_user(request.user, pk)
    try:
        job = jobs.retry(job, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _render_job(request, job, status=409)
    messages.success(request, "The job was started again.")
    return redirect(job)


@require_GET
@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = jobs.get_job_for_user(request.user, pk)
    data = Job.objects.filter(pk=job.pk).values_list("output", flat=True).first()
    if not job.output_name or not data:
        return _render_job(request, job, status=404)
    response = HttpResponse(bytes(data), content_type=job.output_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{job.output_name}"'
    return response


@require_GET
@login_required
def library_jobs(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    role = library.role_of(request.user)
    if role is None:  # a public library's visitors see no jobs
        return redirect(library)
    listed = library.jobs.select_related("user").defer("upload", "output")[:LIST_SIZE]
    context = {"library": library, "jobs": listed, "role": role}
    return render(request, "sources/job_list.html", context)


@require_POST
@login_required
def library_backup(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    job = jobs.enqueue(JobKind.BACKUP, library=library, user=request.user)
    return redirect(job)


@require_POST
@login_required
def library_reindex(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, write=True)
    job = jobs.enqueue(JobKind.REINDEX, library=library, user=request.user)
    return redirect(job)
