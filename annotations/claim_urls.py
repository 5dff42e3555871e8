"""Pages for claims, evidence, events, the timeline, provenance and history.

Included from `config/urls.py` next to `annotations.urls`."""

from django.urls import path

from annotations import claim_views as views

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
]

for kind, name in (
    ("claims", "claim"),
    ("events", "event"),
    ("sources", "source"),
    ("annotations", "annotation"),
):
    urlpatterns += [
        path(
            f"{kind}/<int:pk>/history/", views.history_page, {"kind": kind}, name=f"{name}-history"
        ),
        path(
            f"{kind}/<int:pk>/history/<int:history_id>/revert/",
            views.history_revert,
            {"kind": kind},
            name=f"{name}-history-revert",
        ),
    ]
