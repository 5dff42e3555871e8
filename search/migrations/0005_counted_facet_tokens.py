# The facet tokens a search counts, kept beside the row's filter tokens (PostgreSQL only).
#
# A search reads its window of matches (up to 3,000 rows) with each row's facet tokens and
# counts the tags, events and source kinds among them (`search.engine._window_tokens`).
# `facets` holds every filter token of the row (~20: claim status, library, creators,
# year ranges…), so its jsonb was cast to text for each row and most of that text sent
# and scanned for nothing: "stalin OR mao -korea" in disputed claims read 2,229 rows in
# 11.1 ms, 7.3 ms without the facets (bench/README.md, search). `counted` is the JSON text
# of only the tokens counted (tags "t…", events "e…", source kinds "k…"), computed when
# the row is written, so a search reads it as it is.
#
# Adding a stored generated column rewrites the table and rebuilds its indexes (1.3 million
# entries: see README, search).

from django.db import migrations

COUNTED = """jsonb_path_query_array(
    facets, '$[*] ? (@ starts with "t" || @ starts with "e" || @ starts with "k")')::text"""


def add_counted(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"ALTER TABLE annotations_searchentry ADD COLUMN counted text "
            f"GENERATED ALWAYS AS ({COUNTED}) STORED, "
            "ALTER COLUMN counted SET STORAGE MAIN"
        )


def drop_counted(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE annotations_searchentry DROP COLUMN counted")


class Migration(migrations.Migration):
    dependencies = [("search", "0004_library_scoped_document_index")]

    operations = [migrations.RunPython(add_counted, drop_counted)]
