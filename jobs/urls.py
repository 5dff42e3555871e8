"""The pages of one background job. A library's list of jobs, and the pages that start
one, are the routes of the package whose work it is (`sources`, `search`)."""

from django.urls import path

from jobs import views

urlpatterns = [
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>.json", views.job_status, name="job-status"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("jobs/<int:pk>/download/", views.job_download, name="job-download"),
]
