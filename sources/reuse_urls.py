"""Text-reuse pages; included from config/urls.py as `path("", include("sources.reuse_urls"))`."""

from django.urls import path

from sources import reuse_views

urlpatterns = [
    path("sources/<int:pk>/reuse/", reuse_views.source_reuse, name="reuse-source"),
    path("sources/<int:pk>/reuse/compilation/", reuse_views.compilation, name="reuse-compilation"),
    path("sources/<int:pk>/reuse/passage/", reuse_views.passage, name="reuse-passage"),
    path("sources/<int:pk>/reuse/link/", reuse_views.record_link, name="reuse-link"),
]
