from django.db import migrations

# The search reads a frequent word's matches only in a window of the newest ids. With the
# GIN index on (library, kind, document) alone, PostgreSQL still decodes every posting of
# the word into a bitmap before the window cuts it (77,000 for "soviet" in the benchmark,
# 11 ms). With each row's id block, `id / 16384`, as one more column (btree_gin), the search
# names the window's blocks and each GIN scan skips to its block: 3–5 ms. PostgreSQL only
# (`annotations.search_pg.window`); SQLite's FTS5 hands over its matches as ids already.
SQL = [
    "DROP INDEX IF EXISTS search_document",
    """CREATE INDEX search_document ON annotations_searchentry
       USING gin (library_id, kind, document, (id / 16384))""",
]
REVERSE_SQL = [
    "DROP INDEX IF EXISTS search_document",
    """CREATE INDEX search_document ON annotations_searchentry
       USING gin (library_id, kind, document)""",
]


def replace_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in SQL:
            schema_editor.execute(sql)


def restore_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in REVERSE_SQL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("annotations", "0006_claim_visibility")]

    operations = [migrations.RunPython(replace_index, restore_index)]
