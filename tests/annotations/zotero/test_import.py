"""A Zotero data directory (zotero.sqlite + storage/, zipped) brought into a library whole:
items, creators, tags, collections, notes, files as texts and the PDF reader's annotations."""

from __future__ import annotations

import io
import textwrap
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from reportlab.pdfgen import canvas

from annotations.models import Annotation
from annotations.zotero import archive
from annotations.zotero.importer import import_data_directory
from core.uploads import UploadError
from jobs.models import Job, JobState
from sources.models import ImportRun, Source
from tests.annotations.zotero.builder import VARIANTS, ZoteroLibrary

TRUMAN = (Path(__file__).parents[2] / "data" / "scans" / "truman-1947-03-12.en.txt").read_text(
    "utf-8"
)
PARAGRAPHS = [p for p in TRUMAN.split("\n\n") if p.strip()]
# Quotes as Zotero's reader stores them: pdf.js joins the lines of a highlight with a space.
ACROSS_LINES = "necessitates my appearance before a joint session of the Congress"
ON_PAGE_2 = "Preliminary reports from the American Economic Mission now in Greece"


def pdf(pages: list[str]) -> bytes:
    """A text PDF: each page its paragraphs, wrapped at 90 columns as a typeset page is."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    for text in pages:
        lines = [line for p in text.split("\n\n") for line in [*textwrap.wrap(p, 90), ""]]
        for number, line in enumerate(lines[:45]):
            page.drawString(40, 800 - 16 * number, line)
        page.showPage()
    page.save()
    return buffer.getvalue()


def truman_pdf() -> bytes:
    return pdf(["\n\n".join(PARAGRAPHS[:3]), PARAGRAPHS[3]])


def cold_war_library(variant: str = "userdata-123") -> tuple[ZoteroLibrary, dict[str, int]]:
    zotero = ZoteroLibrary(variant)
    cold_war = zotero.add_collection("Cold War")
    greece = zotero.add_collection("Greece", parent=cold_war)
    speech = zotero.add_item(
        "presentation",
        {
            "title": "Address of the President to Congress, Recommending Assistance to Greece "
            "and Turkey",
            "date": "1947-03-12",
            "presentationType": "Address",
            "meetingName": "Joint session of Congress",
            "place": "Washington, D.C.",
            "url": "https://www.trumanlibrary.gov/library/research-files/address-president-congress",
            "extra": "Citation Key: truman1947\nArchive: Harry S. Truman Library",
            "language": "en",
        },
        creators=[("presenter", "Truman", "Harry S."), ("contributor", "U.S. Congress", None)],
        tags=["Truman Doctrine", "containment"],
        collections=[greece],
    )
    zotero.add_note(speech, "<p>Read aloud at 1 p.m.</p><p>Broadcast by radio.</p>")
    file = zotero.add_file(speech, "Truman - 1947 - Address.pdf", truman_pdf(),
                           "application/pdf", title="Full Text PDF")  # fmt: skip
    zotero.add_annotation(file, "highlight", text=ACROSS_LINES, comment="The **ask**.",
                          tags=["person:Truman"], page_label="1", page_index=0)  # fmt: skip
    zotero.add_annotation(file, "underline", text=ON_PAGE_2, color="#5fb236",
                          page_label="2", page_index=1)  # fmt: skip
    zotero.add_annotation(file, "note", comment="Compare Kennan's long telegram.",
                          page_label="2", page_index=1)  # fmt: skip
    zotero.add_annotation(file, "highlight", text="words that are in no speech at all",
                          page_label="1", page_index=0)  # fmt: skip
    milestone = "https://history.state.gov/milestones/1945-1952/truman-doctrine"
    snapshot = zotero.add_item("webpage", {"title": "Truman Doctrine", "url": milestone})
    zotero.add_file(snapshot, "truman.html", f"<html><body><h1>Truman</h1><p>{PARAGRAPHS[3]}</p>"
                    "<script>alert(1)</script></body></html>".encode(), "text/html",
                    title="Snapshot", link_mode=1)  # fmt: skip
    zotero.add_file(snapshot, "x.pdf", None, "application/pdf", title="On my laptop",
                    link_mode=2, path="/home/historian/x.pdf")  # fmt: skip
    gone = zotero.add_item("book", {"title": "A book in the trash"})
    zotero.trash(gone)
    zotero.add_note(None, "<h1>Questions</h1><p>Who drafted the speech?</p>", "Questions")
    return zotero, {"speech": speech, "snapshot": snapshot}


def upload(data: bytes, name: str = "Zotero.zip") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/zip")


def test_items_come_with_fields_creators_tags_collections_and_notes(library, bob):
    zotero, _ = cold_war_library()
    run = import_data_directory(library, zotero.zip(), user=bob, file_name="Zotero.zip")
    speech = Source.objects.get(library=library, citation_key="truman1947")
    assert speech.csl_type == "speech" and speech.issued == "1947-03-12"
    assert speech.archive == "Harry S. Truman Library"
    assert speech.url.startswith("https://www.trumanlibrary.gov/")
    assert [(c.role, c.family, c.given, c.literal) for c in speech.creators.all()] == [
        ("author", "Truman", "Harry S.", ""),
        ("contributor", "", "", "U.S. Congress"),
    ]
    assert set(speech.keywords) == {"Truman Doctrine", "containment", "collection:Cold War/Greece"}
    assert "Read aloud at 1 p.m.\n\nBroadcast by radio." in speech.note
    assert not library.sources.filter(title="A book in the trash").exists()
    standalone = library.sources.get(title="Questions")
    assert "Who drafted the speech?" in standalone.note
    assert run.format == "zotero-data" and run.counts()["created"] == 3
    assert run.report["skipped"] == {"in the trash": 1} and run.report["schema"] == 123


def test_pdf_annotations_sit_on_their_quotes_with_comment_colour_tags_and_page(library, bob):
    zotero, _ = cold_war_library()
    import_data_directory(library, zotero.zip(), user=bob, file_name="Zotero.zip")
    speech = Source.objects.get(library=library, citation_key="truman1947")
    text = speech.current_text
    assert text.media_type == "application/pdf" and len(text.page_map) == 2
    found = {" ".join(a.exact.split()): a for a in Annotation.objects.filter(text=text)}
    assert set(found) == {ACROSS_LINES, ON_PAGE_2}
    ask = found[ACROSS_LINES]
    assert "\n" in ask.exact  # the PDF broke the line where the reader joined it
    assert text.text[ask.start : ask.end] == ask.exact and ask.state == "anchored"
    assert ask.comment_raw == "The **ask**." and "<strong>ask</strong>" in ask.comment_html
    assert {t.name for t in ask.tags.all()} == {"person:Truman", "colour:yellow"}
    policy = found[ON_PAGE_2]
    assert policy.start >= text.page_map[1][0]  # on page 2, where Zotero had it
    assert {t.name for t in policy.tags.all()} == {"colour:green", "zotero:underline"}
    assert ask.creator == bob


def test_what_could_not_be_brought_is_named_and_its_words_kept(library, bob):
    zotero, _ = cold_war_library()
    run = import_data_directory(library, zotero.zip(), user=bob, file_name="Zotero.zip")
    speech = Source.objects.get(library=library, citation_key="truman1947")
    line = next(o for o in run.outcomes if o["source"] == speech.pk)
    assert "Brought 1 text(s) and 2 annotation(s)." in line["message"]
    assert any("a Zotero note on page 2" in w for w in line["warnings"])
    assert any("words that are in no speech at all" in w for w in line["warnings"])
    assert "Compare Kennan's long telegram." in speech.note
    assert "“words that are in no speech at all”" in speech.note
    webpage = library.sources.get(title="Truman Doctrine")
    assert "urgent appeal for financial and economic assistance" in webpage.current_text.text
    assert "alert" not in webpage.current_text.text and "<script" not in webpage.current_text.html
    snapshot_line = next(o for o in run.outcomes if o["source"] == webpage.pk)
    assert any("linked file outside the data directory" in w for w in snapshot_line["warnings"])
    assert "/home/historian/x.pdf" in webpage.note
    assert run.report["texts"] == 2 and run.report["annotations"] == 2


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_schema_generation_imports(library, bob, variant):
    """Zotero 5's database (userdata 107) has no annotations table; a later one has columns
    the importer does not know. Both import, annotations where there are any."""
    zotero, _ = cold_war_library(variant)
    run = import_data_directory(library, zotero.zip(), user=bob, file_name="Zotero.zip")
    assert run.counts() == {"created": 3, "duplicate": 0, "failed": 0}
    expected = 0 if variant == "userdata-107" else 2
    assert Annotation.objects.filter(library=library).count() == expected


def test_a_second_import_finds_duplicates_and_leaves_their_files(library, bob):
    zotero, _ = cold_war_library()
    import_data_directory(library, zotero.zip(), user=bob, file_name="Zotero.zip")
    again = import_data_directory(library, zotero.zip(), user=bob, file_name="Zotero.zip")
    assert again.counts()["duplicate"] == 3
    speech = next(o for o in again.outcomes if o["title"].startswith("Address"))
    assert "its 1 file(s) and their annotations stay with the copy" in speech["message"]
    assert Annotation.objects.filter(library=library).count() == 2


# --- the archive, bounded -------------------------------------------------------------------


def zip_of(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(name, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"%PDF-1.4 not a zip", "not a .zip archive"),
        (zip_of({"Zotero/storage/ABCD2345/a.pdf": b"x"}), "no zotero.sqlite"),
        (zip_of({"../zotero.sqlite": b"x"}), "outside its folder"),
        (zip_of({"/etc/zotero.sqlite": b"x"}), "outside its folder"),
        (zip_of({"C:/Zotero/zotero.sqlite": b"x"}), "outside its folder"),
        (zip_of({"zotero.sqlite": b"just text"}), "not an SQLite database"),
    ],
)
def test_an_archive_that_is_no_data_directory_is_refused_saying_why(library, bob, data, says):
    with pytest.raises(UploadError, match=says):
        import_data_directory(library, data, user=bob, file_name="x.zip")
    assert not ImportRun.objects.exists() and not Source.objects.exists()


def test_an_sqlite_file_that_is_not_zoteros_is_refused(library, bob):
    import sqlite3

    other = sqlite3.connect(":memory:")
    other.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(UploadError, match="not a Zotero database"):
        import_data_directory(library, zip_of({"zotero.sqlite": other.serialize()}),
                              user=bob, file_name="x.zip")  # fmt: skip


def test_too_many_members_are_refused(library, bob, monkeypatch):
    monkeypatch.setattr(archive, "MAX_MEMBERS", 3)
    zotero = ZoteroLibrary()
    data = zotero.zip({f"storage/ABCDEFG{n}/x.txt": b"x" for n in range(3)})
    with pytest.raises(UploadError, match="holds 4 files; the limit is 3"):
        import_data_directory(library, data, user=bob, file_name="x.zip")


def test_a_zip_bomb_attachment_is_not_read_and_the_rest_comes(library, bob):
    zotero = ZoteroLibrary()
    item = zotero.add_item("report", {"title": "Policy Planning Staff paper"})
    zotero.add_file(item, "bomb.txt", b"\0" * 3_000_000, "text/plain", title="Bomb")
    run = import_data_directory(library, zotero.zip(), user=bob, file_name="x.zip")
    line = run.outcomes[0]
    assert line["status"] == "created"
    assert any("zip bomb" in w for w in line["warnings"])
    assert not library.sources.get().texts.exists()


def test_an_attachment_missing_from_storage_is_named(library, bob):
    zotero = ZoteroLibrary()
    item = zotero.add_item("letter", {"title": "Letter to Attlee"})
    zotero.add_file(item, "scan.pdf", None, "application/pdf", title="Scan")
    run = import_data_directory(library, zotero.zip(), user=bob, file_name="x.zip")
    assert any("is not in storage/" in w for w in run.outcomes[0]["warnings"])


def test_a_database_zipped_while_zotero_was_open_says_so(library, bob):
    zotero = ZoteroLibrary()
    zotero.add_item("book", {"title": "Present at the Creation"})
    run = import_data_directory(
        library, zotero.zip({"zotero.sqlite-wal": b"\0" * 32}), user=bob, file_name="x.zip"
    )
    assert "Zotero was open" in run.report["notes"][0]


# --- the import page: a background job ------------------------------------------------------


def test_the_import_page_runs_a_zip_as_a_job_with_progress(as_user, library, bob):
    zotero, _ = cold_war_library()
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]), {"file": upload(zotero.zip()), "format": ""}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert job.kind == "import-zotero-data" and job.state == JobState.SUCCEEDED, job.error
    assert (job.done, job.total) == (3, 3)
    assert job.result["report"]["annotations"] == 2
    assert job.result["url"] == reverse("import-detail", args=[job.result["import_run"]])
    job_page = as_user(bob).get(job.get_absolute_url()).content.decode()
    assert "2 texts and 2 annotations brought, 3 things not brought" in job_page
    assert "Not brought: 1 item in the trash." in job_page
    page = as_user(bob).get(job.result["url"])
    assert page.status_code == 200 and "Brought 1 text(s) and 2 annotation(s)." in page.text


def test_the_page_refuses_a_bad_archive_on_the_file_field(as_user, library, bob):
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]),
        {"file": upload(zip_of({"notes.txt": b"x"})), "format": "zotero-data"},
    )
    assert response.status_code == 400
    assert "no zotero.sqlite" in str(response.context["form"].errors["file"])
    assert not Job.objects.exists()


def test_a_viewer_and_an_outsider_cannot_import_a_zotero_library(as_user, library, vera, mallory):
    zotero, _ = cold_war_library()
    url = reverse("import-create", args=[library.slug])
    assert as_user(vera).post(url, {"file": upload(zotero.zip())}).status_code == 403
    assert as_user(mallory).post(url, {"file": upload(zotero.zip())}).status_code == 404
    assert not Job.objects.exists() and not Source.objects.exists()


def test_the_import_page_refuses_the_wrong_method(as_user, library, bob):
    assert as_user(bob).delete(reverse("import-create", args=[library.slug])).status_code == 405


def test_the_database_is_read_only_and_a_query_that_spins_is_stopped(library, bob, monkeypatch):
    import sqlite3

    from annotations.zotero import database

    connection = database.connect(ZoteroLibrary().sqlite())
    with pytest.raises(sqlite3.OperationalError, match="readonly|read-only|query_only"):
        connection.execute("DELETE FROM items")
    monkeypatch.setattr(database, "STEP_BUDGET", 1_000_000)
    crafted = ZoteroLibrary()
    crafted.add_item("book", {"title": "Decoy"})
    crafted.db.executescript(
        "DROP TABLE items; CREATE VIEW items AS WITH RECURSIVE n(x) AS "
        "(SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x AS itemID, 1 AS itemTypeID, "
        "'AAAAAAAA' AS key, 1 AS libraryID FROM n;"
    )
    with pytest.raises(UploadError, match="takes too long"):
        import_data_directory(library, crafted.zip(), user=bob, file_name="x.zip")
    assert not Source.objects.exists()


def test_an_archive_over_the_upload_limit_is_refused_413(as_user, library, bob, settings):
    zotero, _ = cold_war_library()
    data = zotero.zip()
    settings.MAX_UPLOAD_BYTES = len(data) - 1
    response = as_user(bob).post(
        reverse("import-create", args=[library.slug]), {"file": upload(data), "format": ""}
    )
    assert response.status_code == 413
    assert "limit" in str(response.context["form"].errors["file"])
    assert not Job.objects.exists()


def test_a_scanned_pdf_is_named_for_ocr_and_its_highlights_kept_in_the_note(library, bob):
    buffer = io.BytesIO()
    scan = canvas.Canvas(buffer)
    scan.rect(100, 100, 300, 400, fill=1)  # a page image, no text layer
    scan.showPage()
    scan.save()
    zotero = ZoteroLibrary()
    item = zotero.add_item("letter", {"title": "Letter to Attlee"})
    file = zotero.add_file(item, "scan.pdf", buffer.getvalue(), "application/pdf", title="Scan")
    zotero.add_annotation(file, "highlight", text="the gravity of the situation")
    run = import_data_directory(library, zotero.zip(), user=bob, file_name="x.zip")
    warnings = run.outcomes[0]["warnings"]
    assert any("is a scan: import it on the source's page to OCR it" in w for w in warnings)
    assert "“the gravity of the situation”" in library.sources.get().note
    assert not Annotation.objects.exists()


def test_a_file_name_zipped_decomposed_on_a_mac_is_found(library, bob):
    import unicodedata

    zotero = ZoteroLibrary()
    item = zotero.add_item("report", {"title": "Zpráva o situaci"})
    name = "Zpráva.html"  # NFC in zotero.sqlite, NFD in the archive (macOS Archive Utility)
    zotero.add_file(item, name, None, "text/html", title="Snapshot", link_mode=1)
    member = zotero.db.execute("SELECT key FROM items ORDER BY itemID DESC").fetchone()[0]
    data = zotero.zip({f"storage/{member}/{unicodedata.normalize('NFD', name)}":
                       "<p>Situace v Řecku.</p>".encode()})  # fmt: skip
    import_data_directory(library, data, user=bob, file_name="x.zip")
    assert library.sources.get().current_text.text == "Situace v Řecku."


def test_a_group_librarys_items_come_tagged_with_the_group(library, bob):
    zotero = ZoteroLibrary()
    seminar = zotero.add_group("Cold War seminar")
    zotero.add_item("book", {"title": "The Cold War: A New History"}, library=seminar)
    zotero.add_item("book", {"title": "We Now Know"}, tags=["Gaddis"])
    import_data_directory(library, zotero.zip(), user=bob, file_name="x.zip")
    assert library.sources.get(title__startswith="The Cold War").keywords == [
        "zotero-group:Cold War seminar"
    ]
    assert library.sources.get(title="We Now Know").keywords == ["Gaddis"]
