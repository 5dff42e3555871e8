from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from annotations.models import Annotation, Tag, TagNamespace


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
