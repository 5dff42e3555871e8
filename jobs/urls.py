"""The pages of one background job, and its status and file in the API. A library's list
of jobs, and the routes that start one, are the package's whose work it is."""

from django.urls import path

from jobs import api, views

urlpatterns = [
    path("jobs/<int:pk>/", views.job_detail, name="job-detail"),
    path("jobs/<int:pk>.json", views.job_status, name="job-status"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="job-retry"),
    path("jobs/<int:pk>/download/", views.job_download, name="job-download"),
    path("api/jobs/<int:pk>/", api.JobView.as_view(), name="api-job-detail"),
    path("api/jobs/<int:pk>/download/", api.JobDownloadView.as_view(), name="api-job-download"),
]
