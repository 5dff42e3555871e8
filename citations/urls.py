"""Export and citation pages and their API: a selection's export, a source's, a passage's
and a claim's citations, and the download of a search's results."""

from django.urls import path

from citations import api, views

urlpatterns = [
    path("export/", views.export_page, name="export"),
    path("export/download/", views.export_download, name="export-download"),
    path("export/preview/", views.export_preview, name="export-preview"),
    path("search/export/", views.search_export, name="search-export"),
    path("sources/<int:pk>/cite/", views.source_cite, name="source-cite"),
    path("annotations/<int:pk>/cite/", views.annotation_cite, name="annotation-cite"),
    path("claims/<int:pk>/cite/", views.claim_cite, name="claim-cite"),
    path("api/export/", api.ExportView.as_view(), name="api-export"),
    path(
        "api/sources/<int:pk>/citation/",
        api.SourceCitationView.as_view(),
        name="api-source-citation",
    ),
    path(
        "api/annotations/<int:pk>/citation/",
        api.AnnotationCitationView.as_view(),
        name="api-annotation-citation",
    ),
    path(
        "api/claims/<int:pk>/citation/",
        api.ClaimCitationView.as_view(),
        name="api-claim-citation",
    ),
    path(
        "api/citation-styles/",
        api.CitationStyleListView.as_view(),
        name="api-citation-styles",
    ),
]
