"""The search page, its citation export, and the search API. Included from
`config/urls.py` with `path("", include("annotations.search_urls"))`."""

from django.urls import path

from annotations import search_api, search_views

urlpatterns = [
    path("search/", search_views.search_page, name="search"),
    path("search/export/", search_views.search_export, name="search-export"),
    path("api/search/", search_api.SearchView.as_view(), name="api-search"),
]
