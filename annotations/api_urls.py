"""The annotations API under /api/. A SimpleRouter: the sources router owns the API root.
Names carry an `api-` prefix, as in `sources.api_urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from annotations import api, claim_api

router = SimpleRouter(use_regex_path=False)
router.register("annotations", api.AnnotationViewSet, basename="api-annotation")
router.register("tags", api.TagViewSet, basename="api-tag")
router.register("claims", claim_api.ClaimViewSet, basename="api-claim")
router.register("evidence", claim_api.EvidenceViewSet, basename="api-evidence")
router.register("events", claim_api.EventViewSet, basename="api-event")

urlpatterns = [
    path(
        "texts/<int:text_pk>/annotations/import/",
        api.AnnotationImportView.as_view(),
        name="api-annotation-import",
    ),
    path("provenance/", claim_api.LibraryProvenanceView.as_view(), name="api-library-provenance"),
    *router.urls,
]
