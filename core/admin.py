"""Admin classes the packages share (core registers no model)."""

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never added or edited here: these rows are made by the application, which
    keeps their rules (hashing a key, one pending invitation, a job's one run)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
