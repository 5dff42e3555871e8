"""*Save to Marginalia*; included from sources/urls.py."""

from django.urls import path

from sources.web import views

urlpatterns = [path("capture/", views.capture, name="web-capture")]
