# The lexicon: every lexeme the document index holds (PostgreSQL only), kept by statement
# triggers on the index table, so that a prefix ("negotiat*") can be asked for as the few
# exact lexemes it stands for. GIN answers a prefix by collecting every posting of every
# matching lexeme before anything can be skipped (58,000 for "negotiat*" in the benchmark,
# 18–25 ms); exact lexemes are read by id block like any word (`search.postgres`).
#
# The lexicon may hold more than the index (nothing is removed when an entry goes), never
# less: every INSERT and UPDATE of the index adds the lexemes of the rows it wrote, in the
# writer's transaction, whatever wrote them (the ORM, `search.writes`' one statement, a
# restore). In lexeme order, so that two writers adding the same new lexemes wait for each
# other in one order instead of deadlocking. SQLite's FTS5 has prefix indexes of its own.

from django.db import migrations

SQL = [
    """CREATE TABLE IF NOT EXISTS search_lexeme (lexeme text COLLATE "C" PRIMARY KEY)""",
    """CREATE OR REPLACE FUNCTION search_lexeme_add() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         INSERT INTO search_lexeme (lexeme)
         SELECT DISTINCT word FROM written, unnest(tsvector_to_array(written.document)) AS word
          ORDER BY word
         ON CONFLICT DO NOTHING;
         RETURN NULL;
       END $$""",
    """CREATE TRIGGER search_lexeme_inserted AFTER INSERT ON annotations_searchentry
       REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION search_lexeme_add()""",
    """CREATE TRIGGER search_lexeme_updated AFTER UPDATE ON annotations_searchentry
       REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION search_lexeme_add()""",
    # What the index holds already (1.3 million entries: about a minute).
    """INSERT INTO search_lexeme (lexeme)
       SELECT DISTINCT unnest(tsvector_to_array(document)) FROM annotations_searchentry
       ON CONFLICT DO NOTHING""",
    "ANALYZE search_lexeme",
]
REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS search_lexeme_updated ON annotations_searchentry",
    "DROP TRIGGER IF EXISTS search_lexeme_inserted ON annotations_searchentry",
    "DROP FUNCTION IF EXISTS search_lexeme_add()",
    "DROP TABLE IF EXISTS search_lexeme",
]


def add_lexicon(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in SQL:
            schema_editor.execute(sql)


def drop_lexicon(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in REVERSE_SQL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_initial")]

    operations = [migrations.RunPython(add_lexicon, drop_lexicon)]
