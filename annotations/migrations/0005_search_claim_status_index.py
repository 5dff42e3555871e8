from django.db import migrations

# A claim-status filter ("disputed") is not in the full-text index, so without this the
# database reads every claim the words match to find the few with that status. A small
# partial btree lets the planner combine it with the full-text bitmap (BitmapAnd) and
# read only the rows that match both. PostgreSQL only: SQLite's FTS5 path filters rows
# it has already narrowed by FTS5.
SQL = {
    "postgresql": """CREATE INDEX IF NOT EXISTS search_claim_status ON annotations_searchentry
                     (status, library_id, id) WHERE kind = 'claim'""",
}
REVERSE_SQL = {"postgresql": "DROP INDEX IF EXISTS search_claim_status"}


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor in SQL:
        schema_editor.execute(SQL[schema_editor.connection.vendor])


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor in REVERSE_SQL:
        schema_editor.execute(REVERSE_SQL[schema_editor.connection.vendor])


class Migration(migrations.Migration):
    dependencies = [("annotations", "0004_annotation_ordering_by_text_column")]

    operations = [migrations.RunPython(add_index, drop_index)]
