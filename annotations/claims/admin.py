from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from annotations.claims.models import Claim, ClaimEvent, Event, Evidence


class EvidenceInline(admin.TabularInline):
    model = Evidence
    extra = 0
    fields = ["annotation", "stance", "note", "creator"]
    raw_id_fields = ["annotation"]
    readonly_fields = ["creator"]


class ClaimEventInline(admin.TabularInline):
    model = ClaimEvent
    extra = 0
    fields = ["event", "relation", "note"]
    raw_id_fields = ["event"]


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "library", "status", "rank", "creator", "modified"]
    list_filter = ["status", "rank", "library"]
    search_fields = ["statement", "note"]
    readonly_fields = ["creator", "created", "modified", "version"]
    autocomplete_fields = ["tags"]
    # Evidence must stay in the claim's library: the inline form runs Evidence.clean().
    inlines = [EvidenceInline, ClaimEventInline]


@admin.register(Event)
class EventAdmin(SimpleHistoryAdmin):
    list_display = ["name", "date", "place", "parent", "library"]
    list_filter = ["library"]
    search_fields = ["name", "place", "description", "wikidata_id"]
    readonly_fields = ["earliest", "latest", "creator", "created", "modified", "version"]
    raw_id_fields = ["parent"]
    autocomplete_fields = ["participants"]


@admin.register(Evidence)
class EvidenceAdmin(SimpleHistoryAdmin):
    list_display = ["__str__", "stance", "library", "creator", "modified"]
    list_filter = ["stance", "library"]
    raw_id_fields = ["claim", "annotation"]
    readonly_fields = ["library", "creator", "created", "modified", "version"]

    def has_add_permission(self, request) -> bool:
        return False  # attached from the reading view or the API, which check the library
