from django.urls import path

from sources import views

urlpatterns = [
    path("", views.home, name="home"),
    path("libraries/", views.library_create, name="library-create"),
    path("libraries/<slug:slug>/", views.library_detail, name="library-detail"),
    path("libraries/<slug:slug>/sources/new/", views.source_create, name="source-create"),
    path("libraries/<slug:slug>/import/", views.import_create, name="import-create"),
    path("imports/<int:pk>/", views.import_detail, name="import-detail"),
    path("sources/<int:pk>/", views.source_detail, name="source-detail"),
    path("sources/<int:pk>/edit/", views.source_edit, name="source-edit"),
    path("sources/<int:pk>/delete/", views.source_delete, name="source-delete"),
    path("sources/<int:pk>/compare/", views.source_compare, name="source-compare"),
    path("sources/<int:pk>/texts/new/", views.text_create, name="text-create"),
    path("sources/<int:pk>/links/new/", views.link_create, name="link-create"),
    path("links/<int:pk>/delete/", views.link_delete, name="link-delete"),
]
