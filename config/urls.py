"""The site's routes: one include per package, in any order (no route of one package can
be taken for another's: tests/config/test_urls.py checks every order), and the site-wide
ones (health, admin, sign-in, the API's root, schema and docs)."""

from django.contrib import admin
from django.contrib.auth.views import PasswordResetView
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import APIRootView

from config import health
from config.security import SameTimePasswordResetForm

# Any order resolves every route to the same view (tests/config/test_urls.py); this one tries
# the busiest routes, the annotation API's, first: resolving /api/annotations/<id>/ costs
# ~20 µs here, ~75 µs behind the library's routes.
PACKAGES = ["annotations", "sources", "search", "citations", "jobs"]

# The API's root lists the library's collections (the other routes are in the schema).
API_ROOT = {
    "libraries": "api-library-list",
    "sources": "api-source-list",
    "source-links": "api-source-link-list",
    "imports": "api-import-list",
}

urlpatterns = [
    path("health/", health.health, name="health"),
    path("admin/", admin.site.urls),
    # The same answer, in the same time, for a registered address and an unknown one.
    path(
        "accounts/password_reset/",
        PasswordResetView.as_view(form_class=SameTimePasswordResetForm),
        name="password_reset",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/", APIRootView.as_view(api_root_dict=API_ROOT), name="api-root"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script from a URL, not inline (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    *(path("", include(f"{package}.urls")) for package in PACKAGES),
]

# Friendly error pages, never a stack trace; JSON under /api/ (config/security.py).
handler400 = "config.security.bad_request"
handler500 = "config.security.server_error"
