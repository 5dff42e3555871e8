from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from config import health

urlpatterns = [
    path("health/", health.health, name="health"),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from a URL, not inline (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("sources.export_urls")),
    path("", include("annotations.search_urls")),
    path("api/", include("annotations.api_urls")),
    path("api/", include("sources.api_urls")),
    path("", include("annotations.urls")),
    path("", include("annotations.claim_urls")),
    path("", include("sources.job_urls")),
    path("", include("sources.reuse_urls")),
    path("", include("sources.urls")),
    path("", include("sources.collab_urls")),
]

# Friendly error pages, never a stack trace; JSON under /api/ (config/security.py).
handler400 = "config.security.bad_request"
handler500 = "config.security.server_error"
