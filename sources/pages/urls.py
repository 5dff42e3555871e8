"""The page view's routes; included from sources/urls.py as `path("", include(...))`."""

from django.urls import path

from sources.pages import views

urlpatterns = [
    path("sources/<int:pk>/pages/", views.page_view, name="source-pages"),
    path("sources/<int:pk>/pages/ocr/", views.ocr_form, name="source-ocr"),
    path("pages/<int:pk>/image/", views.page_image, name="page-image"),
    path("pages/<int:pk>/words/", views.page_words, name="page-words"),
    path("texts/<int:text_id>/pages/<int:index>/crop.png", views.page_crop, name="page-crop"),
    path("texts/<int:pk>/doubts/", views.text_doubts, name="text-doubts"),
    path("originals/<int:pk>/", views.original_download, name="original-download"),
]
