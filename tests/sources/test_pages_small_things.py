"""The smaller things of issue #20 that a page shows: an empty jobs page reads as such, the
only owner is refused "Leave" before any confirmation, the favicon exists, the library's
tabs are styled on every page of it, a new token has a Copy button."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.urls import reverse

from sources.models import Role


def test_an_empty_jobs_page_says_so_without_counting_zero(as_user, alice, bob, library):
    owner = as_user(alice).get(reverse("library-jobs", args=[library.slug])).content.decode()
    editor = as_user(bob).get(reverse("library-jobs", args=[library.slug])).content.decode()
    assert "the most recent 0" not in owner and "none has run in this library yet" in owner
    assert "you have started none here yet" in editor


def test_the_only_owner_is_refused_leave_before_a_confirmation(as_user, alice, library):
    response = as_user(alice).get(reverse("library-leave", args=[library.slug]))
    content = response.content.decode()
    assert response.status_code == 400
    assert "You are the last owner: make someone else owner before you leave." in content
    assert "sources/sharing/confirm.html" not in [t.name for t in response.templates]
    members = as_user(alice).get(reverse("library-members", args=[library.slug])).content.decode()
    assert reverse("library-leave", args=[library.slug]) not in members
    assert library.role_of(alice) == Role.OWNER


def test_an_owner_among_several_is_asked_to_confirm(as_user, alice, bob, library):
    library.memberships.filter(user=bob).update(role=Role.OWNER)
    response = as_user(alice).get(reverse("library-leave", args=[library.slug]))
    assert response.status_code == 200
    assert "Leave" in response.content.decode()


def test_every_page_names_a_favicon_that_exists(as_user, alice, library):
    content = as_user(alice).get(reverse("library-detail", args=[library.slug])).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in content
    assert finders.find("favicon.svg")


def test_the_library_tabs_are_styled_by_the_stylesheet_every_page_loads():
    with open(finders.find("css/marginalia.css"), encoding="utf-8") as sheet:
        base = sheet.read()
    with open(finders.find("css/claims.css"), encoding="utf-8") as sheet:
        claims = sheet.read()
    assert ".library-tabs {" in base and ".library-tabs" not in claims


def test_a_new_token_comes_with_a_copy_button(as_user, alice):
    response = as_user(alice).post(reverse("token-list"), {"name": "laptop"})
    content = response.content.decode()
    assert response.status_code == 201
    assert 'data-copy-field="token-key"' in content and "js/copy-field.js" in content
