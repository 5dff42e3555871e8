"""Sharing a library, its backups, and account tokens (included by `sources.urls`)."""

from django.urls import path

from sources.sharing import views

urlpatterns = [
    path("libraries/<slug:slug>/members/", views.members_page, name="library-members"),
    path("libraries/<slug:slug>/invitations/", views.invite, name="library-invite"),
    path(
        "libraries/<slug:slug>/members/<int:pk>/role/",
        views.change_role,
        name="membership-role",
    ),
    path(
        "libraries/<slug:slug>/members/<int:pk>/remove/",
        views.remove,
        name="membership-remove",
    ),
    path("libraries/<slug:slug>/leave/", views.leave, name="library-leave"),
    path("libraries/<slug:slug>/publish/", views.publish, name="library-publish"),
    path("libraries/<slug:slug>/archive/", views.archive, name="library-archive"),
    path("libraries/<slug:slug>/jobs/backup/", views.library_backup, name="library-backup"),
    path("invitations/", views.invitations, name="invitation-list"),
    path(
        "invitations/<int:pk>/accept/",
        views.respond,
        {"answer": "accept"},
        name="invitation-accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        views.respond,
        {"answer": "decline"},
        name="invitation-decline",
    ),
    path("invitations/<int:pk>/withdraw/", views.withdraw, name="invitation-withdraw"),
    path("account/tokens/", views.token_list, name="token-list"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
]
