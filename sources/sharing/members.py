"""Sharing a library: invitations, roles, leaving and removal, publishing read-only.

Who may do what (the views check it through `sources.access` before calling here):
- owners invite, withdraw invitations, change roles, remove members and publish;
- the invitee, and only they, accepts or declines;
- every member may leave.
A library always keeps an owner: the last one can be neither demoted, removed nor leave.
Role changes lock the library's memberships, so that two owners demoting each other at
the same moment cannot leave it without one.

Every function raises ValidationError naming the field at fault and writes nothing then.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from sources.models import Library, Membership, Role
from sources.sharing.models import Invitation, InvitationState

if TYPE_CHECKING:
    from django.http import HttpRequest

    from sources.models import AnyUser

MAX_PENDING_PER_LIBRARY = 200


# --- Invitations ------------------------------------------------------------------------


@transaction.atomic
def invite(library: Library, *, by, who: str, role: str, message: str = "") -> Invitation:
    """Invite a user (by user name or e-mail address) or an e-mail address not registered
    yet, where the invitation waits until someone signs in with it."""
    _check_role(role, field="role")
    who = who.strip()
    if not who:
        raise ValidationError({"who": "Give a user name or an e-mail address."})
    invitee, email = _addressee(who)
    if invitee is not None and library.memberships.filter(user=invitee).exists():
        raise ValidationError({"who": f"{invitee.get_username()} is already a member."})
    pending = library.invitations.pending()
    same = pending.filter(invitee=invitee) if invitee else pending.filter(email=email)
    if same.exists():
        raise ValidationError({"who": f"{who} has already been invited; withdraw that first."})
    if pending.count() >= MAX_PENDING_PER_LIBRARY:
        raise ValidationError({"who": "Too many invitations wait for an answer; withdraw some."})
    invitation = Invitation(
        library=library,
        invitee=invitee,
        email=email,
        role=role,
        message=message.strip()[:500],
        invited_by=by,
    )
    invitation.full_clean()
    invitation.save()
    return invitation


def _addressee(who: str) -> tuple[AnyUser | None, str]:
    """(user, e-mail) for what an owner typed: a user name, a registered e-mail address,
    or an address nobody uses yet (user None). Deactivated accounts cannot be invited."""
    users = get_user_model().objects.filter(is_active=True)
    if "@" not in who:
        user = users.filter(username=who).first()
        if user is None:
            raise ValidationError({"who": f"No user is called “{who}”."})
        return user, user.email.strip().lower()
    try:
        validate_email(who)
    except ValidationError:
        raise ValidationError({"who": f"“{who}” is not an e-mail address."}) from None
    email = who.lower()
    matches = list(users.filter(email__iexact=email)[:2])
    # Two accounts share the address: the invitation must name one, by user name.
    if len(matches) > 1:
        raise ValidationError({"who": "Several users have this address: invite by user name."})
    return (matches[0] if matches else None), email


def get_invitation_for_invitee(user: AnyUser, pk: int) -> Invitation:
    """A pending invitation addressed to `user` (404 for anyone else: nothing leaks)."""
    invitation = Invitation.objects.addressed_to(user).select_related("library").filter(pk=pk)
    found = invitation.first()
    if found is None:
        raise Http404("No such invitation.")
    return found


def get_invitation_for_owner(user: AnyUser, pk: int) -> Invitation:
    invitation = Invitation.objects.select_related("library").filter(pk=pk).first()
    if invitation is None or invitation.library.role_of(user) is None:
        raise Http404("No such invitation.")
    if invitation.library.role_of(user) != Role.OWNER:
        raise PermissionDenied("Only the library's owners may withdraw invitations.")
    return invitation


@transaction.atomic
def accept(invitation: Invitation, user) -> Membership:
    """Join the library in the invited role (or keep a higher role already held)."""
    invitation = _lock_pending(invitation)
    membership, created = Membership.objects.get_or_create(
        library=invitation.library, user=user, defaults={"role": invitation.role}
    )
    if not created and _rank(invitation.role) < _rank(membership.role):
        membership.role = invitation.role
        membership.save(update_fields=["role"])
    _close(invitation, InvitationState.ACCEPTED, invitee=user)
    return membership


@transaction.atomic
def decline(invitation: Invitation, user) -> None:
    _close(_lock_pending(invitation), InvitationState.DECLINED, invitee=user)


@transaction.atomic
def withdraw(invitation: Invitation) -> None:
    _close(_lock_pending(invitation), InvitationState.WITHDRAWN)


def _lock_pending(invitation: Invitation) -> Invitation:
    """The invitation, locked, if it is still waiting: answering twice (two tabs, two
    clicks) must not join twice or revive a withdrawn invitation."""
    locked = Invitation.objects.select_for_update().filter(pk=invitation.pk).first()
    if locked is None or locked.state != InvitationState.PENDING:
        raise ValidationError({"invitation": "This invitation has already been answered."})
    return locked


def _close(invitation: Invitation, state: str, *, invitee=None) -> None:
    invitation.state = state
    invitation.responded = timezone.now()
    if invitee is not None:
        invitation.invitee = invitee
    invitation.save(update_fields=["state", "responded", "invitee"])


def pending_invitation_count(user: AnyUser) -> int:
    return Invitation.objects.addressed_to(user).count()


def nav_context(request: HttpRequest) -> dict:
    """Template context: how many invitations wait for the visitor, counted only if a
    template asks (a callable in the context is called on use)."""
    return {"pending_invitations": partial(pending_invitation_count, request.user)}


# --- Roles, removal and leaving -------------------------------------------------------------


def _rank(role: str) -> int:
    return {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}[Role(role)]


def _check_role(role: str, *, field: str) -> None:
    if role not in Role.values:
        choices = ", ".join(Role.values)
        raise ValidationError({field: f"“{role}” is not a role; choose one of {choices}."})


def _locked_memberships(library: Library) -> dict[int, Membership]:
    """Every membership of the library, locked for this transaction, by pk."""
    rows = library.memberships.select_for_update().select_related("user").order_by("pk")
    return {membership.pk: membership for membership in rows}


def _member(memberships: dict[int, Membership], pk: int) -> Membership:
    if pk not in memberships:
        raise Http404("No such member.")
    return memberships[pk]


def _owners(memberships: dict[int, Membership]) -> int:
    return sum(1 for membership in memberships.values() if membership.role == Role.OWNER)


@transaction.atomic
def change_role(library: Library, membership_pk: int, role: str) -> Membership:
    """Give a member another role; the last owner cannot be demoted."""
    _check_role(role, field="role")
    memberships = _locked_memberships(library)
    membership = _member(memberships, membership_pk)
    if membership.role == Role.OWNER and role != Role.OWNER and _owners(memberships) == 1:
        raise ValidationError(
            {"role": "The library's last owner cannot be demoted: make someone else owner first."}
        )
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(library: Library, membership_pk: int) -> Membership:
    """Take a member out of the library. Their private notes stay theirs and hidden."""
    memberships = _locked_memberships(library)
    membership = _member(memberships, membership_pk)
    if membership.role == Role.OWNER and _owners(memberships) == 1:
        raise ValidationError(
            {"member": "The library's last owner cannot be removed: make someone else owner first."}
        )
    membership.delete()
    return membership


@transaction.atomic
def leave(library: Library, user) -> None:
    memberships = _locked_memberships(library)
    mine = next((m for m in memberships.values() if m.user_id == user.pk), None)
    if mine is None:
        raise Http404("You are not a member of this library.")
    if mine.role == Role.OWNER and _owners(memberships) == 1:
        raise ValidationError(
            {"member": "You are the last owner: make someone else owner before you leave."}
        )
    mine.delete()


# --- Publishing -------------------------------------------------------------------------


def set_public(library: Library, is_public: bool) -> Library:
    """Publish the library read-only to everyone (signed in or not), or stop publishing.
    Private annotations stay private either way (`Annotation.objects.visible_to`)."""
    library.is_public = is_public
    library.save(update_fields=["is_public"])
    return library
