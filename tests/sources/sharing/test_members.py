"""Sharing a library: invitations, roles, leaving, removal, publishing (sources.sharing.members)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from sources.models import Library, Membership, Role
from sources.sharing import members
from sources.sharing.models import Invitation, InvitationState
from tests.factories import add_member, make_annotation, make_library, make_user


def member(library: Library, user) -> Membership:
    return library.memberships.get(user=user)


# --- Invitations ------------------------------------------------------------------------


def test_inviting_by_user_name_addresses_that_account(library, alice, mallory):
    invitation = members.invite(library, by=alice, who="mallory", role=Role.EDITOR)
    assert invitation.invitee == mallory
    assert list(Invitation.objects.addressed_to(mallory)) == [invitation]


def test_inviting_a_registered_address_addresses_its_account(library, alice, mallory):
    invitation = members.invite(library, by=alice, who="MALLORY@example.org", role=Role.VIEWER)
    assert invitation.invitee == mallory
    assert invitation.email == "mallory@example.org"


def test_an_invitation_to_an_unknown_address_waits_for_whoever_registers_it(library, alice):
    invitation = members.invite(library, by=alice, who="Carol@Example.org", role=Role.EDITOR)
    assert invitation.invitee is None
    carol = make_user(username="carol")
    carol.email = "carol@example.org"
    carol.save()
    assert list(Invitation.objects.addressed_to(carol)) == [invitation]
    members.accept(invitation, carol)
    assert member(library, carol).role == Role.EDITOR
    invitation.refresh_from_db()
    assert (invitation.state, invitation.invitee) == (InvitationState.ACCEPTED, carol)


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("", "Give a user name"),
        ("nobody", "No user is called"),
        ("not an@address", "not an e-mail address"),
        ("bob", "already a member"),
    ],
)
def test_an_invitation_that_cannot_be_sent_names_the_problem(library, alice, who, message):
    with pytest.raises(ValidationError) as caught:
        members.invite(library, by=alice, who=who, role=Role.VIEWER)
    assert message in caught.value.message_dict["who"][0]
    assert not Invitation.objects.exists()


def test_an_unknown_role_is_refused_by_name(library, alice, mallory):
    with pytest.raises(ValidationError) as caught:
        members.invite(library, by=alice, who="mallory", role="admin")
    assert "role" in caught.value.message_dict


def test_the_same_person_is_not_invited_twice(library, alice, mallory):
    members.invite(library, by=alice, who="mallory", role=Role.VIEWER)
    with pytest.raises(ValidationError, match="already been invited"):
        members.invite(library, by=alice, who="mallory@example.org", role=Role.EDITOR)


def test_declining_closes_the_invitation_without_joining(library, alice, mallory):
    invitation = members.invite(library, by=alice, who="mallory", role=Role.VIEWER)
    members.decline(invitation, mallory)
    assert library.role_of(mallory) is None
    assert not Invitation.objects.addressed_to(mallory).exists()


def test_an_invitation_is_answered_once(library, alice, mallory):
    invitation = members.invite(library, by=alice, who="mallory", role=Role.VIEWER)
    members.withdraw(invitation)
    with pytest.raises(ValidationError, match="already been answered"):
        members.accept(invitation, mallory)
    assert library.role_of(mallory) is None


def test_accepting_never_lowers_a_role_already_held(library, alice, bob):
    invitation = Invitation.objects.create(library=library, invitee=bob, role=Role.VIEWER)
    members.accept(invitation, bob)
    assert member(library, bob).role == Role.EDITOR


def test_nobody_else_can_answer_an_invitation(library, alice, mallory, vera):
    invitation = members.invite(library, by=alice, who="mallory", role=Role.OWNER)
    with pytest.raises(Http404):
        members.get_invitation_for_invitee(vera, invitation.pk)


# --- Roles, removal, leaving ------------------------------------------------------------------


def test_an_owner_changes_a_role(library, bob):
    members.change_role(library, member(library, bob).pk, Role.VIEWER)
    assert library.role_of(bob) == Role.VIEWER


def test_the_last_owner_cannot_be_demoted(library, alice):
    with pytest.raises(ValidationError) as caught:
        members.change_role(library, member(library, alice).pk, Role.EDITOR)
    assert "last owner" in caught.value.message_dict["role"][0]
    assert library.role_of(alice) == Role.OWNER


def test_an_owner_may_step_down_once_there_is_another(library, alice, bob):
    members.change_role(library, member(library, bob).pk, Role.OWNER)
    members.change_role(library, member(library, alice).pk, Role.VIEWER)
    assert (library.role_of(alice), library.role_of(bob)) == (Role.VIEWER, Role.OWNER)


def test_the_last_owner_can_neither_leave_nor_be_removed(library, alice):
    with pytest.raises(ValidationError, match="last owner"):
        members.leave(library, alice)
    with pytest.raises(ValidationError, match="last owner"):
        members.remove_member(library, member(library, alice).pk)
    assert library.role_of(alice) == Role.OWNER


def test_a_member_leaves_and_their_private_notes_stay_hidden(library, source, alice, bob):
    note = make_annotation(
        text=source.current_text, creator=bob, quote="treaty", visibility="private"
    )
    members.leave(library, bob)
    assert library.role_of(bob) is None
    from annotations.models import Annotation

    assert not Annotation.objects.visible_to(alice).filter(pk=note.pk).exists()


def test_removing_a_member_of_another_library_is_a_404(library, alice, mallory):
    other = make_library(owner=mallory, name="Mallory's")
    with pytest.raises(Http404):
        members.remove_member(library, member(other, mallory).pk)
    assert other.role_of(mallory) == Role.OWNER


def test_publishing_makes_the_library_readable_to_everyone(library):
    members.set_public(library, True)
    from django.contrib.auth.models import AnonymousUser

    assert Library.objects.visible_to(AnonymousUser()).filter(pk=library.pk).exists()
    assert not Library.objects.editable_by(AnonymousUser()).exists()


def test_an_outsider_gains_no_role_when_a_library_is_published(library, mallory):
    members.set_public(library, True)
    assert library.role_of(mallory) is None
    assert not library.can_edit(mallory)


def test_two_owners_demoting_each_other_leave_one_owner(alice, bob):
    library = make_library(owner=alice)
    add_member(library=library, user=bob, role=Role.OWNER)
    members.change_role(library, member(library, alice).pk, Role.EDITOR)
    with pytest.raises(ValidationError):
        members.change_role(library, member(library, bob).pk, Role.EDITOR)
    assert library.memberships.filter(role=Role.OWNER).count() == 1
