"""Background jobs' pages: included from config/urls.py with `path("", include(...))`."""

from django.urls import path

from sources import job_views

urlpatterns = [
    path("jobs/<int:pk>/", job_views.job_detail, name="job-detail"),
    path("jobs/<int:pk>.json", job_views.job_status, name="job-status"),
    path("jobs/<int:pk>/retry/", job_views.job_retry, name="job-retry"),
    path("jobs/<int:pk>/download/", job_views.job_download, name="job-download"),
    path("libraries/<slug:slug>/jobs/", job_views.library_jobs, name="library-jobs"),
    path("libraries/<slug:slug>/jobs/backup/", job_views.library_backup, name="library-backup"),
    path("libraries/<slug:slug>/jobs/reindex/", job_views.library_reindex, name="library-reindex"),
]
