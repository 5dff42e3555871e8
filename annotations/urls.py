"""The annotations' routes: the W3C Web Annotation protocol and tags under /api/, an
annotation's history, the library's tag manager, and the claims' routes
(`annotations.claims.urls`)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from annotations import api, views

router = SimpleRouter(use_regex_path=False)
router.register("annotations", api.AnnotationViewSet, basename="api-annotation")
router.register("tags", api.TagViewSet, basename="api-tag")

urlpatterns = [
    path("", include("annotations.hypothesis.urls")),
    path("annotations/<int:pk>/history/", views.annotation_history, name="annotation-history"),
    path(
        "annotations/<int:pk>/history/<int:history_id>/revert/",
        views.annotation_history_revert,
        name="annotation-history-revert",
    ),
    path("texts/<int:text_pk>/annotations/", views.text_annotations, name="text-annotations"),
    path("libraries/<slug:slug>/tags/", views.tag_manager, name="tag-manager"),
    path("tags/<int:pk>/rename/", views.tag_rename, name="tag-rename"),
    path("tags/<int:pk>/merge/", views.tag_merge, name="tag-merge"),
    path("tags/<int:pk>/delete/", views.tag_delete, name="tag-delete"),
    path(
        "api/texts/<int:text_pk>/annotations/import/",
        api.AnnotationImportView.as_view(),
        name="api-annotation-import",
    ),
    path("api/", include(router.urls)),
    path("", include("annotations.claims.urls")),
]
