# The full-text document and the facet tokens of a search entry kept in its row (PostgreSQL
# only). With the default storage, PostgreSQL moves a row's largest values out of it once
# the row passes ~2 KB: the document (~0.5-1.6 KB, and incompressible) usually went to the
# TOAST table, so ranking 1,300 matches (ts_rank reads every matched row's document) read
# ~3,700 more buffers and cost ~8 ms instead of ~4 (bench/README.md, search). MAIN keeps
# them in the row unless it would not fit a page; the display text (title, body, note) and
# the folded terms, read only for the rows shown or when reindexing, go out of it instead.
# Rows written before keep their storage until rewritten (`manage.py rebuild_search_index`).

from django.db import migrations

COLUMNS = ("document", "facets")


def keep_in_row(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE annotations_searchentry ALTER COLUMN {column} SET STORAGE MAIN"
            )


def default_storage(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for column in COLUMNS:
            schema_editor.execute(
                f"ALTER TABLE annotations_searchentry ALTER COLUMN {column} SET STORAGE EXTENDED"
            )


class Migration(migrations.Migration):
    dependencies = [("search", "0002_lexicon")]

    operations = [migrations.RunPython(keep_in_row, default_storage)]
