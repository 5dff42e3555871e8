"""The members page and its forms: invitations, roles, removal, leaving, publishing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sources.models import Role
from sources.sharing.models import Invitation, InvitationState


def members_url(library) -> str:
    return reverse("library-members", args=[library.slug])


def test_members_see_who_belongs_and_owners_see_the_controls(as_user, library, alice, vera):
    page = as_user(alice).get(members_url(library))
    assert page.status_code == 200
    html = page.content.decode()
    assert "bob" in html and "vera" in html
    assert "Invite someone" in html and "Publish read-only" in html
    viewer_page = as_user(vera).get(members_url(library)).content.decode()
    assert "bob" in viewer_page
    assert "Invite someone" not in viewer_page


def test_readers_of_a_public_library_do_not_see_its_members(as_user, library, mallory):
    library.is_public = True
    library.save()
    assert as_user(mallory).get(members_url(library)).status_code == 404


def test_members_page_refuses_a_post(as_user, library, alice):
    assert as_user(alice).post(members_url(library)).status_code == 405


def test_the_members_page_is_a_404_for_an_outsider(as_user, library, mallory):
    assert as_user(mallory).get(members_url(library)).status_code == 404


def test_an_owner_invites_and_the_invitee_accepts(as_user, library, alice, mallory):
    url = reverse("library-invite", args=[library.slug])
    response = as_user(alice).post(url, {"who": "mallory", "role": "editor"})
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert "mallory" in as_user(mallory).get(reverse("invitation-list")).content.decode()
    accepted = as_user(mallory).post(reverse("invitation-accept", args=[invitation.pk]))
    assert accepted.status_code == 302
    assert library.role_of(mallory) == Role.EDITOR


def test_an_invitation_page_shows_the_count_in_the_header(as_user, library, alice, mallory):
    Invitation.objects.create(library=library, invitee=mallory, role=Role.VIEWER)
    html = as_user(mallory).get(reverse("home")).content.decode()
    assert 'Invitations <span class="badge">1</span>' in html


def test_inviting_nobody_answers_400_naming_the_field(as_user, library, alice):
    url = reverse("library-invite", args=[library.slug])
    response = as_user(alice).post(url, {"who": "nobody-here", "role": "editor"})
    assert response.status_code == 400
    assert "No user is called" in response.content.decode()
    assert not Invitation.objects.exists()


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("vera", 403), ("mallory", 404)])
def test_only_owners_invite(as_user, library, persona, status, request):
    url = reverse("library-invite", args=[library.slug])
    user = request.getfixturevalue(persona)
    response = as_user(user).post(url, {"who": "mallory", "role": "owner"})
    assert response.status_code == status
    assert not Invitation.objects.exists()


def test_someone_else_cannot_accept_an_invitation(as_user, library, alice, mallory, vera):
    invitation = Invitation.objects.create(library=library, invitee=mallory, role=Role.OWNER)
    response = as_user(vera).post(reverse("invitation-accept", args=[invitation.pk]))
    assert response.status_code == 404
    assert library.role_of(vera) == Role.VIEWER


def test_declining_by_get_is_refused(as_user, library, mallory):
    invitation = Invitation.objects.create(library=library, invitee=mallory, role=Role.VIEWER)
    response = as_user(mallory).get(reverse("invitation-decline", args=[invitation.pk]))
    assert response.status_code == 405
    invitation.refresh_from_db()
    assert invitation.state == InvitationState.PENDING


def test_an_owner_changes_a_role_from_the_page(as_user, library, alice, bob):
    membership = library.memberships.get(user=bob)
    url = reverse("membership-role", args=[library.slug, membership.pk])
    assert as_user(alice).post(url, {"role": "viewer"}).status_code == 302
    assert library.role_of(bob) == Role.VIEWER


def test_an_unknown_role_answers_400(as_user, library, alice, bob):
    membership = library.memberships.get(user=bob)
    url = reverse("membership-role", args=[library.slug, membership.pk])
    response = as_user(alice).post(url, {"role": "emperor"})
    assert response.status_code == 400
    assert "role" in response.content.decode()
    assert library.role_of(bob) == Role.EDITOR


def test_demoting_the_last_owner_answers_400_with_the_reason(as_user, library, alice):
    membership = library.memberships.get(user=alice)
    url = reverse("membership-role", args=[library.slug, membership.pk])
    response = as_user(alice).post(url, {"role": "viewer"})
    assert response.status_code == 400
    assert "last owner" in response.content.decode()


def test_an_editor_cannot_promote_themself(as_user, library, bob):
    membership = library.memberships.get(user=bob)
    url = reverse("membership-role", args=[library.slug, membership.pk])
    assert as_user(bob).post(url, {"role": "owner"}).status_code == 403
    assert library.role_of(bob) == Role.EDITOR


def test_removal_asks_for_confirmation_then_removes(as_user, library, alice, vera):
    membership = library.memberships.get(user=vera)
    url = reverse("membership-remove", args=[library.slug, membership.pk])
    assert "Remove vera" in as_user(alice).get(url).content.decode()
    assert library.role_of(vera) == Role.VIEWER
    assert as_user(alice).post(url).status_code == 302
    assert library.role_of(vera) is None


def test_a_viewer_leaves_the_library(as_user, library, vera):
    url = reverse("library-leave", args=[library.slug])
    assert as_user(vera).post(url).status_code == 302
    assert library.role_of(vera) is None


def test_the_last_owner_leaving_answers_400(as_user, library, alice):
    response = as_user(alice).post(reverse("library-leave", args=[library.slug]))
    assert response.status_code == 400
    assert library.role_of(alice) == Role.OWNER


def test_an_outsider_cannot_leave_what_they_never_joined(as_user, library, mallory):
    assert as_user(mallory).post(reverse("library-leave", args=[library.slug])).status_code == 404


def test_an_owner_publishes_and_unpublishes(as_user, library, alice):
    url = reverse("library-publish", args=[library.slug])
    as_user(alice).post(url, {"is_public": "on"})
    library.refresh_from_db()
    assert library.is_public
    assert as_user(None).get(library.get_absolute_url()).status_code == 200
    as_user(alice).post(url, {})
    library.refresh_from_db()
    assert not library.is_public


@pytest.mark.parametrize(("persona", "status"), [("bob", 403), ("vera", 403), ("mallory", 404)])
def test_only_owners_publish(as_user, library, persona, status, request):
    user = request.getfixturevalue(persona)
    url = reverse("library-publish", args=[library.slug])
    assert as_user(user).post(url, {"is_public": "on"}).status_code == status
    library.refresh_from_db()
    assert not library.is_public


def test_anonymous_visitors_are_sent_to_sign_in(as_user, library):
    response = as_user(None).get(members_url(library))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]
