"""The search page and API, the suggestions of its filter fields, and starting a library's
re-index. The citations of a search's results download from `citations.urls`
(`search/export/`)."""

from django.urls import path

from search import api, suggest, views

urlpatterns = [
    path("search/", views.search_page, name="search"),
    path("search/suggest/", suggest.suggest, name="search-suggest"),
    path("api/search/", api.SearchView.as_view(), name="api-search"),
    path("libraries/<slug:slug>/jobs/reindex/", views.library_reindex, name="library-reindex"),
]
