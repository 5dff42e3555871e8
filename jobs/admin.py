from django.contrib import admin

from core.admin import ReadOnlyAdmin
from jobs.models import Job


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    """Background jobs, to see what failed and why; their files (uploads, backups) are
    downloaded from the job's page by whoever may, not from here."""

    list_display = ["pk", "kind", "state", "library", "user", "attempts", "created", "finished"]
    list_filter = ["kind", "state"]
    search_fields = ["library__slug", "user__username", "upload_name", "output_name"]
    list_select_related = ["library", "user"]
    exclude = ["upload", "output"]
