"""The routes of claims, evidence and events: their pages (the timeline, provenance and
history included) and their API under /api/. Included by `annotations.urls`."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from annotations.claims import api, views

router = SimpleRouter(use_regex_path=False)
router.register("claims", api.ClaimViewSet, basename="api-claim")
router.register("evidence", api.EvidenceViewSet, basename="api-evidence")
router.register("events", api.EventViewSet, basename="api-event")

urlpatterns = [
    path("libraries/<slug:slug>/claims/", views.claim_list, name="claim-list"),
    path("libraries/<slug:slug>/claims/new/", views.claim_create, name="claim-create"),
    path("libraries/<slug:slug>/timeline/", views.timeline_page, name="timeline"),
    path("libraries/<slug:slug>/timeline.svg", views.timeline_svg, name="timeline-svg"),
    path("libraries/<slug:slug>/events/new/", views.event_create, name="event-create"),
    path(
        "libraries/<slug:slug>/provenance.jsonld",
        views.library_provenance,
        name="library-provenance",
    ),
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/edit/", views.claim_edit, name="claim-edit"),
    path("claims/<int:pk>/delete/", views.claim_delete, name="claim-delete"),
    path("claims/<int:pk>/events/", views.claim_event_add, name="claim-event-add"),
    path("claims/<int:pk>/provenance.jsonld", views.claim_provenance, name="claim-provenance"),
    path("claim-events/<int:pk>/delete/", views.claim_event_delete, name="claim-event-delete"),
    path("evidence/<int:pk>/edit/", views.evidence_edit, name="evidence-edit"),
    path("evidence/<int:pk>/delete/", views.evidence_delete, name="evidence-delete"),
    path("events/<int:pk>/", views.event_detail, name="event-detail"),
    path("events/<int:pk>/edit/", views.event_edit, name="event-edit"),
    path("events/<int:pk>/delete/", views.event_delete, name="event-delete"),
    path("claims/<int:pk>/history/", views.claim_history, name="claim-history"),
    path(
        "claims/<int:pk>/history/<int:history_id>/revert/",
        views.claim_history_revert,
        name="claim-history-revert",
    ),
    path("events/<int:pk>/history/", views.event_history, name="event-history"),
    path(
        "events/<int:pk>/history/<int:history_id>/revert/",
        views.event_history_revert,
        name="event-history-revert",
    ),
    path("api/provenance/", api.LibraryProvenanceView.as_view(), name="api-library-provenance"),
    path("api/", include(router.urls)),
]
