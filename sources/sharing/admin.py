from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from sources.sharing import members
from sources.sharing.models import ApiToken, Invitation, InvitationState


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    """Owners invite from the library's members page; here staff can see and withdraw."""

    list_display = ["library", "addressee", "role", "state", "invited_by", "created", "responded"]
    list_filter = ["state", "role"]
    search_fields = ["library__name", "library__slug", "invitee__username", "email"]
    list_select_related = ["library", "invitee", "invited_by"]
    actions = ["withdraw"]

    @admin.action(description="Withdraw the selected pending invitations")
    def withdraw(self, request: HttpRequest, queryset: QuerySet[Invitation]) -> None:
        withdrawn = 0
        for invitation in queryset.filter(state=InvitationState.PENDING):
            try:
                members.withdraw(invitation)
            except ValidationError:  # answered meanwhile
                continue
            withdrawn += 1
        self.message_user(request, f"Withdrew {withdrawn} invitation(s).", messages.SUCCESS)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    """Keys are created by their owner (Account → API tokens), who sees the key once; only
    its SHA-256 is stored, and that hash is not shown here. Deleting a token revokes it."""

    list_display = ["name", "user", "prefix", "read_only", "created", "last_used", "expires"]
    list_filter = ["read_only"]
    search_fields = ["name", "prefix", "user__username"]
    list_select_related = ["user"]
    exclude = ["key_hash"]
