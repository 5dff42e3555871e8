"""Pages for sharing a library: members, invitations, roles, leaving, publishing; the owners'
backups; each person's API tokens.

Each view parses the request, checks access through `sources.access`, calls one function
of `members`, `backup` or `tokens` and renders; a refused change re-renders the page with
the message at the field and a 400.
"""

from __future__ import annotations

import tempfile

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from jobs import queue
from sources.access import get_library_for_user
from sources.models import Library, Role
from sources.sharing import backup, members, tokens
from sources.sharing.forms import InviteForm, PublishForm, RoleForm, TokenForm
from sources.sharing.jobs import BACKUP
from sources.sharing.models import Invitation

ROLE_ORDER = {Role.OWNER: 0, Role.EDITOR: 1, Role.VIEWER: 2}


def _apply(form: forms.Form, error: ValidationError) -> None:
    """Put a sharing error on the form: at its field when the form has it, else on top."""
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
        "last_owner": is_owner and _is_last_owner(memberships),
        "roles": Role.choices,
        "invite_form": invite_form or InviteForm(),
        "invitations": (
            library.invitations.pending().select_related("invitee", "invited_by")
            if is_owner
            else []
        ),
        "errors": errors or [],
    }
    return render(request, "sources/sharing/members.html", context, status=status)


@require_GET
@login_required
def members_page(request: HttpRequest, slug: str) -> HttpResponse:
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
            invitation = members.invite(library, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply(form, error)
        else:
            messages.success(request, f"Invited {invitation.addressee} as {invitation.role}.")
            return redirect("library-members", slug=library.slug)
    return _members_page(request, library, invite_form=form, status=400)


@require_POST
@login_required
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    invitation = members.get_invitation_for_owner(request.user, pk)
    library = invitation.library
    try:
        members.withdraw(invitation)
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
        membership = members.change_role(library, pk, form.cleaned_data["role"])
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
        members.remove_member(library, pk)
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
        if library.role_of(request.user) == Role.OWNER and _is_last_owner(
            library.memberships.all()
        ):
            # Refused before the confirmation page, not after it: nothing to confirm.
            return _members_page(request, library, errors=[LAST_OWNER], status=400)
        return _confirm(request, library, "leave")
    try:
        members.leave(library, request.user)
    except ValidationError as error:
        return _members_page(request, library, errors=error.messages, status=400)
    messages.success(request, f"You left “{library.name}”.")
    return redirect("home")


LAST_OWNER = "You are the last owner: make someone else owner before you leave."


def _is_last_owner(memberships) -> bool:
    return sum(1 for m in memberships if m.role == Role.OWNER) == 1


def _confirm(request: HttpRequest, library: Library, action: str, **context) -> HttpResponse:
    context |= {"library": library, "action": action, "here": "Confirm"}
    return render(request, "sources/sharing/confirm.html", context)


@require_POST
@login_required
def publish(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    form = PublishForm(request.POST)
    if not form.is_valid():
        return _members_page(request, library, errors=_messages(form), status=400)
    members.set_public(library, form.cleaned_data["is_public"])
    state = "published read-only" if library.is_public else "private to its members"
    messages.success(request, f"“{library.name}” is now {state}.")
    return redirect("library-members", slug=library.slug)


# --- The invitee's side ---------------------------------------------------------------------


@require_GET
@login_required
def invitations(request: HttpRequest) -> HttpResponse:
    pending = Invitation.objects.addressed_to(request.user).select_related("library", "invited_by")
    return render(request, "sources/sharing/invitations.html", {"invitations": pending})


@require_POST
@login_required
def respond(request: HttpRequest, pk: int, answer: str) -> HttpResponse:
    invitation = members.get_invitation_for_invitee(request.user, pk)
    try:
        if answer == "accept":
            members.accept(invitation, request.user)
        else:
            members.decline(invitation, request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("invitation-list")
    if answer == "accept":
        messages.success(request, f"You joined “{invitation.library.name}”.")
        return redirect(invitation.library)
    messages.success(request, f"Invitation to “{invitation.library.name}” declined.")
    return redirect("invitation-list")


# --- Backups ------------------------------------------------------------------------------

SPOOL_BYTES = 32 * 1024 * 1024  # kept in memory below this, on disk above


@require_http_methods(["GET", "POST"])
@login_required
@transaction.non_atomic_requests  # the backup takes its own consistent snapshot
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    if request.method == "GET":
        context = {"library": library, "here": "Backup", "counts": backup.library_counts(library)}
        return render(request, "sources/sharing/backup.html", context)
    # FileResponse closes it once sent; a with-block would close it before.
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
    backup.write_archive(library, out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=backup.backup_file_name(library),
        content_type="application/zip",
    )


@require_POST
@login_required
def library_backup(request: HttpRequest, slug: str) -> HttpResponse:
    """Start a backup job (for libraries too large to download while you wait)."""
    library = get_library_for_user(request.user, slug, owner=True)
    job = queue.enqueue(BACKUP, library=library, user=request.user)
    return redirect(job)


# --- API tokens ---------------------------------------------------------------------------


def _page(request: HttpRequest, form: TokenForm, status: int = 200) -> HttpResponse:
    context = {"form": form, "tokens": tokens.tokens_of(request.user)}
    return render(request, "sources/sharing/token_list.html", context, status=status)


@require_http_methods(["GET", "POST"])
@login_required
@never_cache  # the page that shows a new key must not stay in any cache
def token_list(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        return _page(request, TokenForm())
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    data = form.cleaned_data
    try:
        token, key = tokens.create_token(
            request.user, name=data["name"], read_only=data["read_only"],
            expires_in_days=data["expires"],
        )  # fmt: skip
    except ValidationError as error:
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _page(request, form, status=400)
    return render(
        request, "sources/sharing/token_created.html", {"token": token, "key": key}, status=201
    )


@require_POST
@login_required
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = tokens.revoke_token(request.user, pk)
    messages.success(request, f"Token “{token.name}” revoked: it no longer works.")
    return redirect("token-list")
