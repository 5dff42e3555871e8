# The document-order index also holds what decides whether a reader sees an annotation
# (visibility, creator, library), PostgreSQL only (SQLite has no INCLUDE).
#
# A page of a text's annotations is counted when it is full (`annotations.reads.page`): the
# count read every annotation of the text from the table to check its visibility, one heap
# page per annotation where they were written over time among other texts' (a text with
# 1,031 annotations written by the load test's writers: 334 pages of 50 a second through
# gunicorn, PostgreSQL 2.75 ms a page, against 592 and 0.68 ms for 100 annotations a text).
# With these columns in the index the count is an index-only scan: 0.98 -> 0.57 ms for 1,000
# annotations even when they sit together (bench/README.md, load test).

from django.db import migrations

COVERING = """CREATE INDEX annotation_document_order ON annotations_annotation
    (text_id, start, "end", id) INCLUDE (visibility, creator_id, library_id)"""
PLAIN = """CREATE INDEX annotation_document_order ON annotations_annotation
    (text_id, start, "end", id)"""


def _rebuild(sql: str):
    def rebuild(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute("DROP INDEX IF EXISTS annotation_document_order")
            schema_editor.execute(sql)

    return rebuild


class Migration(migrations.Migration):
    dependencies = [("annotations", "0012_hypothesis_client_profile")]

    operations = [migrations.RunPython(_rebuild(COVERING), _rebuild(PLAIN))]
