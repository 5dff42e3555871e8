"""Text-reuse pages; included from config/urls.py as `path("", include("sources.reuse.urls"))`."""

from django.urls import path

from sources.reuse import views

urlpatterns = [
    path("sources/<int:pk>/reuse/", views.source_reuse, name="reuse-source"),
    path("sources/<int:pk>/reuse/compilation/", views.compilation, name="reuse-compilation"),
    path("sources/<int:pk>/reuse/passage/", views.passage, name="reuse-passage"),
    path("sources/<int:pk>/reuse/link/", views.record_link, name="reuse-link"),
]
