"""The sources API under /api/. Names carry an `api-` prefix: the HTML views own
`library-detail`, `source-detail` and friends."""

from rest_framework.routers import DefaultRouter

from sources import api

router = DefaultRouter(use_regex_path=False)
router.include_format_suffixes = False  # JSON only; keeps the schema to one path per route
router.register("libraries", api.LibraryViewSet, basename="api-library")
router.register("sources", api.SourceViewSet, basename="api-source")
router.register("sources/<int:source_pk>/texts", api.SourceTextViewSet, basename="api-source-text")
router.register("source-links", api.SourceLinkViewSet, basename="api-source-link")
router.register("imports", api.ImportRunViewSet, basename="api-import")
urlpatterns = router.urls
