"""The search page and API, and starting a library's re-index. The citations of a search's
results download from `citations.urls` (`search/export/`)."""

from django.urls import path

from search import api, views

urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("api/search/", api.SearchView.as_view(), name="api-search"),
    path("libraries/<slug:slug>/jobs/reindex/", views.library_reindex, name="library-reindex"),
]
