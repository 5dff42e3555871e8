"""Sharing, account tokens and library backups: included from config/urls.py with
`path("", include("sources.collab_urls"))`."""

from django.urls import path

from sources import backup_views, collab_views, token_views

urlpatterns = [
    path("libraries/<slug:slug>/members/", collab_views.members, name="library-members"),
    path("libraries/<slug:slug>/invitations/", collab_views.invite, name="library-invite"),
    path(
        "libraries/<slug:slug>/members/<int:pk>/role/",
        collab_views.change_role,
        name="membership-role",
    ),
    path(
        "libraries/<slug:slug>/members/<int:pk>/remove/",
        collab_views.remove,
        name="membership-remove",
    ),
    path("libraries/<slug:slug>/leave/", collab_views.leave, name="library-leave"),
    path("libraries/<slug:slug>/publish/", collab_views.publish, name="library-publish"),
    path("libraries/<slug:slug>/archive/", backup_views.archive, name="library-archive"),
    path("invitations/", collab_views.invitations, name="invitation-list"),
    path(
        "invitations/<int:pk>/accept/",
        collab_views.respond,
        {"answer": "accept"},
        name="invitation-accept",
    ),
    path(
        "invitations/<int:pk>/decline/",
        collab_views.respond,
        {"answer": "decline"},
        name="invitation-decline",
    ),
    path("invitations/<int:pk>/withdraw/", collab_views.withdraw, name="invitation-withdraw"),
    path("account/tokens/", token_views.token_list, name="token-list"),
    path("account/tokens/<int:pk>/revoke/", token_views.token_revoke, name="token-revoke"),
]
