"""/hypothesis/: the sidebar page, the boot script and the API the client calls."""

from django.urls import path

from annotations.hypothesis import views

urlpatterns = [
    path("hypothesis/", views.start, name="hypothesis-start"),
    path("hypothesis/app.html", views.app, name="hypothesis-app"),
    path("hypothesis/extension.zip", views.extension_zip, name="hypothesis-extension"),
    path("hypothesis/oauth/authorize", views.authorize, name="hypothesis-authorize"),
    path("hypothesis/boot.js", views.boot, name="hypothesis-boot"),
    # Where the boot script says the client is (its `hypothesis-client` link): the annotator
    # loads it from there into the frames of the page that ask to be annotated.
    path("hypothesis/client/build/boot.js", views.boot),
    path("hypothesis/client/build/<path:path>", views.client_file, name="hypothesis-client"),
    path("hypothesis/api/", views.index, name="hypothesis-api-index"),
    path("hypothesis/api/links", views.links, name="hypothesis-api-links"),
    path("hypothesis/api/token", views.token, name="hypothesis-api-token"),
    path("hypothesis/api/revoke", views.revoke, name="hypothesis-api-revoke"),
    path("hypothesis/api/profile", views.profile, name="hypothesis-api-profile"),
    path("hypothesis/api/profile/groups", views.profile_groups, name="hypothesis-api-my-groups"),
    path("hypothesis/api/groups", views.groups, name="hypothesis-api-groups"),
    path("hypothesis/api/groups/<slug:slug>", views.group, name="hypothesis-api-group"),
    path("hypothesis/api/groups/<slug:slug>/members", views.group_members),
    path("hypothesis/api/groups/<slug:slug>/members/<str:userid>", views.group_member),
    path("hypothesis/api/search", views.search, name="hypothesis-api-search"),
    path("hypothesis/api/annotations", views.create, name="hypothesis-api-create"),
    path("hypothesis/api/annotations/<int:pk>", views.annotation, name="hypothesis-api-one"),
    path("hypothesis/api/annotations/<int:pk>/flag", views.refused),
    path("hypothesis/api/annotations/<int:pk>/hide", views.refused),
    path("hypothesis/api/annotations/<int:pk>/moderation", views.refused),
    path("hypothesis/api/analytics/events", views.analytics),
]
