"""The library's routes: its pages, its API under /api/ and those of its subpackages,
`sharing`, `reuse`, `pages` and `web`. Included once from config/urls.py; no route here can
be taken for another package's (tests/config/test_urls.py shuffles the packages' order to check)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from sources import api, views

# API names carry an `api-` prefix: the pages own `library-detail`, `source-detail`…
router = SimpleRouter(use_regex_path=False)
router.register("libraries", api.LibraryViewSet, basename="api-library")
router.register("sources", api.SourceViewSet, basename="api-source")
router.register("sources/<int:source_pk>/texts", api.SourceTextViewSet, basename="api-source-text")
router.register("source-links", api.SourceLinkViewSet, basename="api-source-link")
router.register("imports", api.ImportRunViewSet, basename="api-import")

urlpatterns = [
    path("", views.home, name="home"),
    path("libraries/", views.library_create, name="library-create"),
    path("libraries/<slug:slug>/", views.library_detail, name="library-detail"),
    path("libraries/<slug:slug>/sources/new/", views.source_create, name="source-create"),
    path("libraries/<slug:slug>/sources/bulk/", views.library_bulk, name="library-bulk"),
    path("libraries/<slug:slug>/import/", views.import_create, name="import-create"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("imports/<int:pk>/anyway/", views.import_anyway, name="import-anyway"),
    path("sources/<int:pk>/", views.source_detail, name="source-detail"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", views.source_delete, name="source-delete"),
    path("sources/<int:pk>/compare/", views.source_compare, name="source-compare"),
    path("sources/<int:pk>/text/blocks/", views.source_text_blocks, name="source-text-blocks"),
    path("sources/<int:pk>/texts/new/", views.text_create, name="text-create"),
    path("sources/<int:pk>/links/new/", views.link_create, name="link-create"),
    path("links/<int:pk>/delete/", views.link_delete, name="link-delete"),
    path("libraries/<slug:slug>/jobs/", views.library_jobs, name="library-jobs"),
    path("sources/<int:pk>/history/", views.source_history, name="source-history"),
    path(
        "sources/<int:pk>/history/<int:history_id>/revert/",
        views.source_history_revert,
        name="source-history-revert",
    ),
    path("api/", include(router.urls)),
    path("", include("sources.sharing.urls")),
    path("", include("sources.reuse.urls")),
    path("", include("sources.pages.urls")),
    path("", include("sources.web.urls")),
]
