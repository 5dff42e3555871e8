"""Pages for sharing a library: members, invitations, roles, leaving, publishing.

Each view parses the request, checks access through `sources.access`, calls one function
of `sources.collab` and renders; a refused change re-renders the page with the message
at the field and a 400.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sources import collab
from sources.access import get_library_for_user
from sources.models import Invitation, Library, Role

ROLE_ORDER = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}


class InviteForm(forms.Form):
    who = forms.CharField(
        label="User name or e-mail address",
        max_length=254,
        help_text="Someone not registered yet finds the invitation when they sign in with "
        "this address.",
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)
    message = forms.CharField(
        label="Message (optional)",
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class PublishForm(forms.Form):
    is_public = forms.BooleanField(required=False, label="Published read-only to everyone")


def _apply(form: forms.Form, error: ValidationError) -> None:
    """Put a collab error on the form: at its field when the form has it, else on top."""
    for field, errors in error.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _members_page(
    request: HttpRequest,
    library: Library,
    *,
    invite_form: InviteForm | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    role = library.role_of(request.user)
    is_owner = role == Role.OWNER
    memberships = sorted(
        library.memberships.select_related("user"),
        key=lambda m: (ROLE_ORDER[m.role], m.user.get_username().lower()),
    )
    context = {
        "library": library,
        "here": "Members and sharing",
        "memberships": memberships,
        "my_role": role,
        "is_owner": is_owner,
        "roles": Role.choices,
        "invite_form": invite_form or InviteForm(),
        "invitations": (
            library.invitations.pending().select_related("invitee", "invited_by")
            if is_owner
            else []
        ),
        "errors": errors or [],
    }
    return render(request, "sources/collab_members.html", context, status=status)


@require_GET
@login_required
def members(request: HttpRequest, slug: str) -> HttpResponse:
    """Who belongs to the library (for its members only), and for owners the controls."""
    library = get_library_for_user(request.user, slug)
    if library.role_of(request.user) is None:
        # A public library's readers see its sources, not who works on it.
        raise Http404("No such page.")
    return _members_page(request, library)


@require_POST
@login_required
def invite(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invitation = collab.invite(library, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply(form, error)
        else:
            messages.success(request, f"Invited {invitation.addressee} as {invitation.role}.")
            return redirect("library-members", slug=library.slug)
    return _members_page(request, library, invite_form=form, status=400)


@require_POST
@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = collab.get_invitation_for_owner(request.user, pk)
    library = invitation.library
    try:
        collab.withdraw(invitation)
    except ValidationError as error:
        return _members_page(request, library, errors=error.messages, status=400)
    messages.success(request, f"Invitation to {invitation.addressee} withdrawn.")
    return redirect("library-members", slug=library.slug)


@require_POST
@login_required
def change_role(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _members_page(request, library, errors=_messages(form), status=400)
    try:
        membership = collab.change_role(library, pk, form.cleaned_data["role"])
    except ValidationError as error:
        return _members_page(request, library, errors=error.messages, status=400)
    messages.success(request, f"{membership.user.get_username()} is now {membership.role}.")
    if membership.user_id == request.user.pk and membership.role != Role.OWNER:
        return redirect(library)  # no longer an owner: the controls are gone
    return redirect("library-members", slug=library.slug)


def _messages(form: forms.Form) -> list[str]:
    return [f"{name}: {message}" for name, errors in form.errors.items() for message in errors]


@require_http_methods(["GET", "POST"])
@login_required
def remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    membership = library.memberships.select_related("user").filter(pk=pk).first()
    if membership is None:
        raise Http404("No such member.")
    if request.method == "GET":
        return _confirm(request, library, "remove", membership=membership)
    try:
        collab.remove_member(library, pk)
    except ValidationError as error:
        return _members_page(request, library, errors=error.messages, status=400)
    messages.success(request, f"{membership.user.get_username()} removed from the library.")
    if membership.user_id == request.user.pk:
        return redirect("home")
    return redirect("library-members", slug=library.slug)


@require_http_methods(["GET", "POST"])
@login_required
def leave(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug)
    if library.role_of(request.user) is None:
        raise Http404("You are not a member of this library.")
    if request.method == "GET":
        return _confirm(request, library, "leave")
    try:
        collab.leave(library, request.user)
    except ValidationError as error:
        return _members_page(request, library, errors=error.messages, status=400)
    messages.success(request, f"You left “{library.name}”.")
    return redirect("home")


def _confirm(request: HttpRequest, library: Library, action: str, **context) -> HttpResponse:
    context |= {"library": library, "action": action, "here": "Confirm"}
    return render(request, "sources/collab_confirm.html", context)


@require_POST
@login_required
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return _members_page(request, library, errors=_messages(form), status=400)
    collab.set_public(library, form.cleaned_data["is_public"])
    state = "published read-only" if library.is_public else "private to its members"
    messages.success(request, f"“{library.name}” is now {state}.")
    return redirect("library-members", slug=library.slug)


# --- The invitee's side ---------------------------------------------------------------------


@require_GET
@login_required
def invitations(request: HttpRequest) -> HttpResponse:
    pending = Invitation.objects.addressed_to(request.user).select_related("library", "invited_by")
    return render(request, "sources/collab_invitations.html", {"invitations": pending})


@require_POST
@login_required
def respond(request: HttpRequest, pk: int, answer: str) -> HttpResponse:
    invitation = collab.get_invitation_for_invitee(request.user, pk)
    try:
        if answer == "accept":
            collab.accept(invitation, request.user)
        else:
            collab.decline(invitation, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("invitation-list")
    if answer == "accept":
        messages.success(request, f"You joined “{invitation.library.name}”.")
        return redirect(invitation.library)
    messages.success(request, f"Invitation to “{invitation.library.name}” declined.")
    return redirect("invitation-list")
