from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from sources import collab
from sources.models import (
    ApiToken,
    Creator,
    ImportRun,
    Invitation,
    InvitationState,
    Job,
    Library,
    Membership,
    Source,
    SourceLink,
    SourceText,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added or edited here: these rows are made by the application, which
    keeps their rules (hashing a key, one pending invitation, a job's one run)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "is_public", "created"]
    search_fields = ["name", "slug"]
    inlines = [MembershipInline]


class CreatorInline(admin.TabularInline):
    model = Creator
    extra = 0


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ["title", "citation_key", "csl_type", "kind", "issued", "library"]
    list_filter = ["kind", "csl_type", "library"]
    search_fields = ["title", "citation_key", "archive", "archive_location"]
    readonly_fields = ["issued_earliest", "issued_latest", "version", "created", "modified"]
    inlines = [CreatorInline]


@admin.register(SourceText)
class SourceTextAdmin(admin.ModelAdmin):
    """Revisions are immutable: the admin shows them and never edits them."""

    list_display = ["source", "revision", "file_name", "media_type", "imported_by", "imported_at"]
    search_fields = ["source__title", "sha256", "file_name"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SourceLink)
class SourceLinkAdmin(SimpleHistoryAdmin):
    list_display = ["subject", "relation", "object", "library"]
    list_filter = ["relation"]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ["file_name", "format", "library", "user", "created"]


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
                collab.withdraw(invitation)
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


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs, to see what failed and why; their files (uploads, backups) are
    downloaded from the job's page by whoever may, not from here."""

    list_display = ["pk", "kind", "state", "library", "user", "attempts", "created", "finished"]
    list_filter = ["kind", "state"]
    search_fields = ["library__slug", "user__username", "upload_name", "output_name"]
    list_select_related = ["library", "user"]
    exclude = ["upload", "output"]
