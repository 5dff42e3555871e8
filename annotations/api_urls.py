"""The annotations API under /api/. A SimpleRouter: the sources router owns the API root.
Names carry an `api-` prefix, as in `sources.api_urls`."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from annotations import api

router = SimpleRouter(use_regex_path=False)
router.register("annotations", api.AnnotationViewSet, basename="api-annotation")
router.register("tags", api.TagViewSet, basename="api-tag")

urlpatterns = [
    path(
        "texts/<int:text_pk>/annotations/import/",
        api.AnnotationImportView.as_view(),
        name="api-annotation-import",
    ),
    *router.urls,
]
