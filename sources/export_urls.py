"""Export and citation pages and their API. Included at the site root (before the API
routers, whose detail routes would otherwise see `annotations/<pk>/citation/` first):

    path("", include("sources.export_urls")),
"""

from django.urls import path

from sources import export_api, export_views

urlpatterns = [
    path("export/", export_views.export_page, name="export"),
    path("export/download/", export_views.export_download, name="export-download"),
    path("export/preview/", export_views.export_preview, name="export-preview"),
    path("sources/<int:pk>/cite/", export_views.source_cite, name="source-cite"),
    path("annotations/<int:pk>/cite/", export_views.annotation_cite, name="annotation-cite"),
    path("claims/<int:pk>/cite/", export_views.claim_cite, name="claim-cite"),
    path("api/export/", export_api.ExportView.as_view(), name="api-export"),
    path(
        "api/sources/<int:pk>/citation/",
        export_api.SourceCitationView.as_view(),
        name="api-source-citation",
    ),
    path(
        "api/annotations/<int:pk>/citation/",
        export_api.AnnotationCitationView.as_view(),
        name="api-annotation-citation",
    ),
    path(
        "api/claims/<int:pk>/citation/",
        export_api.ClaimCitationView.as_view(),
        name="api-claim-citation",
    ),
    path(
        "api/citation-styles/",
        export_api.CitationStyleListView.as_view(),
        name="api-citation-styles",
    ),
]
