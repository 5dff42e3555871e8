"""The owners' backup page: what a backup holds, and the archive to download."""

from __future__ import annotations

import tempfile

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from sources import backup
from sources.access import get_library_for_user

SPOOL_BYTES = 32 * 1024 * 1024  # kept in memory below this, on disk above


@require_http_methods(["GET", "POST"])
@login_required
@transaction.non_atomic_requests  # the backup takes its own consistent snapshot
def archive(request: HttpRequest, slug: str) -> HttpResponse:
    library = get_library_for_user(request.user, slug, owner=True)
    if request.method == "GET":
        context = {"library": library, "here": "Backup", "counts": backup.library_counts(library)}
        return render(request, "sources/backup_page.html", context)
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
