"""The `ocr` job: a scan read by OCR into a new revision of a source's text.

Enqueued by the OCR page (`views.ocr_form`) with the scan itself (a PDF, an image, or
several images bundled, in order: `bundle`), or with the revision whose files to read
again (a PDF whose text layer is poor). Registered from `SourcesConfig.ready()`. A scan
uploaded on the ordinary text form is read by the text import's job (`sources.jobs`),
in the source's languages.
"""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.uploads import UploadError, safe_file_name
from jobs import registry
from jobs.models import Job
from jobs.runner import Progress
from sources import importers
from sources.access import is_owner
from sources.jobs import editor_of, editors_may_start
from sources.models import Library, Source, SourceText
from sources.pages import ocr
from sources.pages.models import OriginalFile

OCR = "ocr"
BUNDLE = "scans.zip"  # several page images, in order, as one job's upload


def bundle(files: list[tuple[str, bytes]]) -> bytes:
    """Several page images as one upload (stored, not compressed: they are compressed)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for number, (name, data) in enumerate(files):
            archive.writestr(f"{number:04d}/{safe_file_name(name)}", data)
    return buffer.getvalue()


def unbundle(data: bytes) -> list[importers.Original]:
    """The images `bundle` packed, in order (read within the limits they were sent under)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = sorted(archive.infolist(), key=lambda member: member.filename)
        if len(members) > settings.OCR_MAX_PAGES or any(
            m.file_size > settings.MAX_UPLOAD_BYTES for m in members
        ):
            raise UploadError("The bundle of scans is larger than an upload may be.", status=413)
        return [importers.Original(m.filename.split("/", 1)[-1], archive.read(m)) for m in members]


def prepare_ocr(library: Library, data: bytes, name: str, params: dict) -> dict:
    source = params.get("source")
    if not isinstance(source, Source) or source.library_id != library.pk:
        raise ValidationError({"source": "Choose a source of this library."})
    revision = params.get("revision")
    if revision is not None:
        _check_revision(source, revision)
    elif not data:
        raise UploadError("Choose the scan to read: a PDF, or page images.")
    elif name != BUNDLE:
        importers.media_type_for(name)
    languages = tuple(params.get("languages") or ()) or ocr.languages_for(source)
    if why := ocr.unavailable(languages):
        raise UploadError(why, field="languages")
    return {
        "source": source.pk,
        "revision": revision.pk if revision is not None else None,
        "languages": list(languages),
        "note": importers.checked_note(params.get("note") or ""),
    }


def _check_revision(source: Source, revision: SourceText) -> None:
    if not isinstance(revision, SourceText) or revision.source_id != source.pk:
        raise ValidationError({"revision": "Choose a revision of this source."})
    if not OriginalFile.objects.filter(text=revision).exists():
        raise ValidationError({"revision": "This revision keeps no file to read again."})


def ocr_job(job: Job, progress: Progress) -> dict:
    """Read the scan (or the revision's files again) by OCR into the next revision."""
    user = editor_of(job)
    source = Source.objects.select_related("library").get(
        pk=job.params["source"], library=job.library
    )
    originals = _originals(job)
    request = importers.OcrRequest(
        source=source, languages=tuple(job.params["languages"]), progress=progress
    )
    extracted = ocr.read_scan(originals, request)
    text = importers.save_revision(
        source, extracted, originals=originals, user=user, note=job.params["note"]
    )
    return {
        "source": source.pk,
        "text": text.pk,
        "revision": text.revision,
        "url": reverse("source-pages", args=[source.pk]) + f"?revision={text.revision}",
    }


def _originals(job: Job) -> list[importers.Original]:
    if job.params.get("revision"):
        files = OriginalFile.objects.filter(
            text_id=job.params["revision"], text__source_id=job.params["source"]
        ).order_by("position")
        return [importers.Original(f.name, bytes(f.data)) for f in files]
    data = bytes(job.upload)
    return (
        unbundle(data) if job.upload_name == BUNDLE else [importers.Original(job.upload_name, data)]
    )


def register() -> None:
    label = "OCR"
    registry.register(
        registry.Kind(
            name=OCR,
            label=label,
            run=ocr_job,
            prepare=prepare_ocr,
            may_start=editors_may_start(label),
            may_manage=is_owner,
        )
    )
