from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from sources.models import Creator, ImportRun, Library, Membership, Source, SourceLink, SourceText


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
