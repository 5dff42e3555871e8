"""Pages and JSON of background jobs: progress, result or error, retry, download.

Thin views over `jobs.queue`: a job is seen by whoever started it, by its library's
owners and, for site-wide jobs, by staff (`Job.objects.visible_to`);
`queue.get_job_for_user` answers 404 for anyone else. Its file is downloaded only by whoever
started it (`queue.may_download`; 403 for the others). The pages that start a job, and a
library's list of them, belong to the packages whose work it is.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from jobs import queue
from jobs.models import Job


@require_GET
@login_required
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = queue.get_job_for_user(request.user, pk)
    return _render_job(request, job)


def _render_job(request: HttpRequest, job: Job, status: int = 200) -> HttpResponse:
    context = {
        "job": job,
        "library": job.library,
        "can_retry": job.is_retryable and queue.may_retry(job, request.user),
        "can_download": bool(job.output_name) and queue.may_download(job, request.user),
    }
    return render(request, "jobs/detail.html", context, status=status)


@never_cache
@require_GET
def job_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Polled by static/js/jobs.js while the job runs."""
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Sign in to follow this job."}, status=401)
    job = queue.get_job_for_user(request.user, pk)
    return JsonResponse(queue.job_status(job, request.user))


@require_POST
@login_required
def job_retry(request: HttpRequest, pk: int) -> HttpResponse:
    job = queue.get_job_for_user(request.user, pk)
    try:
        job = queue.retry(job, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _render_job(request, job, status=409)
    messages.success(request, "The job was started again.")
    return redirect(job)


@never_cache  # a private file: no shared cache may keep it
@require_GET
@login_required
def job_download(request: HttpRequest, pk: int) -> HttpResponse:
    job = queue.get_job_for_user(request.user, pk)
    data = queue.output_of(job, request.user)  # 403 unless they started it
    if data is None:
        return _render_job(request, job, status=404)
    response = HttpResponse(data, content_type=job.output_type or "application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{job.output_name}"'
    return response
