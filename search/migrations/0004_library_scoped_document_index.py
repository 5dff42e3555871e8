# The full-text index keyed by library and lexeme together (PostgreSQL only).
#
# The GIN index on (library_id, kind, document, id block) answered a search in three
# libraries with one scan per library, and each scan decoded the words' whole posting lists,
# every library's rows included, since GIN keeps the libraries apart only as one more key
# to intersect with: "treaty delegation" decoded ~131,000 postings three times to find
# 1,319 rows (11.6 ms of 15.5; bench/README.md, search). This index holds each row's
# lexemes prefixed with its library ("7:treati"), so a library's posting list holds only
# its own rows; one scan asks for every visible library at once,
# ('1:treati' & '1:deleg') | ('7:treati' & '7:deleg') | … (1.6 ms).
#
# `search_scoped(library, document)` is the indexed expression: the document's lexemes
# (without positions), each cut to 250 characters (a lexeme may have 2,047 bytes, a scoped
# one no more either). `search_scoped_query(query, libraries)` rewrites a tsquery for it:
# each lexeme prefixed and cut the same way, phrase operators read as AND (the scoped
# lexemes have no positions). The rewritten query finds a superset of what the query finds
# in those libraries, so the search keeps `document @@ query` as the exact condition
# (`search.postgres.fragment`); it must only be given queries without negation, since
# !('a' <-> 'b') is not implied by !('a' & 'b'). The old index goes: nothing searches the
# document without a library. The index also holds each row's kind and claim status, so that
# a search of disputed claims intersects them in the same scan ("stalin OR mao", disputed:
# 3.6 ms for the 2,318 rows, against 4.6 ms for 14,913 claims, then a status bitmap, 3.9 ms).
#
# Building the index reads every entry (1.3 million: ~90 s, 370 MB against 133 MB).
#
# Both GIN indexes of the table are written without a pending list (fastupdate off). With
# one, entries written since the last vacuum wait in an unsorted list of up to 4 MB that
# every scan reads whole, and a window of id blocks is one scan per block: after 60,000
# entries written, `Сталина`'s older window read 6,458 buffers in 38.5 ms instead of 495 in
# 1.4 ms. Writing straight into the index costs an entry ~0.46 ms in a bulk insert instead
# of ~0.3 (20,000 entries: 9.1 s against 6.0-6.7 s).

from django.db import migrations

SQL = [
    r"""CREATE OR REPLACE FUNCTION search_scoped(library bigint, document tsvector)
        RETURNS tsvector LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
          SELECT array_to_tsvector(ARRAY(
            SELECT library::text || ':' || left(lexeme, 250)
              FROM unnest(tsvector_to_array(document)) AS lexeme))
        $$""",
    # tsquery's text form quotes each lexeme ('a''b', 'c\\d'), then perhaps :* or weights;
    # operators stand between: & | ! ( ) <-> <N>.
    r"""CREATE OR REPLACE FUNCTION search_scoped_query(query tsquery, libraries bigint[])
        RETURNS tsquery LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
          SELECT CASE WHEN numnode(query) = 0 OR cardinality(libraries) = 0 THEN query ELSE (
            SELECT string_agg('(' || (
                SELECT string_agg(CASE
                    WHEN m[1] IS NOT NULL THEN '''' || replace(replace(
                        library::text || ':' || left(replace(replace(m[1], '''''', ''''),
                                                             '\\', '\'), 250),
                        '\', '\\'), '''', '''''') || ''''
                    WHEN m[2] IS NOT NULL THEN ' & '
                    ELSE m[3] END, '' ORDER BY n)
                  FROM regexp_matches(query::text,
                                      '''((?:[^'']|'''')*)''|(<(?:-|[0-9]+)>)|([^''<]+)', 'g')
                       WITH ORDINALITY AS token(m, n)
              ) || ')', ' | ')::tsquery
              FROM unnest(libraries) AS library)
          END
        $$""",
    """CREATE INDEX search_scoped_document ON annotations_searchentry
       USING gin (search_scoped(library_id, document), kind, status, (id / 16384))
       WITH (fastupdate = off)""",
    # No pending list on either GIN index of the table (see above), and none left behind.
    "ALTER INDEX search_facets SET (fastupdate = off)",
    "SELECT gin_clean_pending_list('search_facets'::regclass)",
    "DROP INDEX IF EXISTS search_document",
    # The claim-status btree (annotations 0005) was partial on kind = 'claim': a search of
    # claims then named `kind` both in the full-text index scan and, through that
    # predicate, in the status scan, and the planner never ANDs two bitmaps that answer
    # the same condition; with the scoped index it read every disputed claim instead (123
    # ms for "stalin OR mao -korea", disputed). Only claims have a status: the same rows.
    "DROP INDEX IF EXISTS search_claim_status",
    """CREATE INDEX search_claim_status ON annotations_searchentry (status, library_id, id)
       WHERE status <> ''""",
]
REVERSE_SQL = [
    "ALTER INDEX search_facets RESET (fastupdate)",
    "DROP INDEX IF EXISTS search_claim_status",
    """CREATE INDEX search_claim_status ON annotations_searchentry (status, library_id, id)
       WHERE kind = 'claim'""",
    """CREATE INDEX search_document ON annotations_searchentry
       USING gin (library_id, kind, document, (id / 16384))""",
    "DROP INDEX IF EXISTS search_scoped_document",
    "DROP FUNCTION IF EXISTS search_scoped_query(tsquery, bigint[])",
    "DROP FUNCTION IF EXISTS search_scoped(bigint, tsvector)",
]


def scoped_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in SQL:
            schema_editor.execute(sql)


def library_column_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in REVERSE_SQL:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("search", "0003_document_and_facets_kept_in_the_row")]

    operations = [migrations.RunPython(scoped_index, library_column_index)]
