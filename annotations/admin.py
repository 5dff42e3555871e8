from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from annotations.models import Annotation, Claim, ClaimEvent, Event, Evidence, Tag, TagNamespace


@admin.register(Annotation)
class AnnotationAdmin(SimpleHistoryAdmin):
    list_display = [
        "__str__",
        "library",
        "state",
        "motivation",
        "visibility",
        "creator",
        "modified",
    ]
    list_filter = ["state", "motivation", "visibility", "library"]
    search_fields = ["exact", "comment_raw"]
    # The anchor is placed through the API (offsets checked against the text), not by hand.
    readonly_fields = [
        "library", "text", "start", "end", "exact", "prefix", "suffix", "state",
        "anchor_score", "comment_html", "creator", "created", "modified", "version",
    ]  # fmt: skip
    autocomplete_fields = ["tags"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj: Annotation, form, change: bool) -> None:
        obj.set_comment(obj.comment_raw)  # keep the sanitised HTML in step
        super().save_model(request, obj, form, change)


@admin.register(Tag)
class TagAdmin(SimpleHistoryAdmin):
    list_display = ["name", "namespace", "library", "created"]
    list_filter = ["library", "namespace"]
    search_fields = ["name"]


@admin.register(TagNamespace)
class TagNamespaceAdmin(admin.ModelAdmin):
    list_display = ["namespace", "colour", "library"]
    list_filter = ["library"]


# --- claims, evidence and events ----------------------------------------------------------------


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
