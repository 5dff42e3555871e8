import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from core.dates import edtf_bounds
from sources.models import Library, Source, SourceText
from tests.factories import make_source, make_text


@pytest.mark.parametrize(
    ("value", "earliest", "latest"),
    [
        ("1949-12-16", "1949-12-16", "1949-12-16"),
        ("1960-07?", "1960-07-01", "1960-07-31"),
        ("1958/1962", "1958-01-01", "1962-12-31"),
        ("196X", "1960-01-01", "1969-12-31"),
        ("1950-01-01~", "1950-01-01", "1950-01-01"),
        ("1950-01/1950-02", "1950-01-01", "1950-02-28"),
    ],
)
def test_edtf_bounds(value, earliest, latest):
    low, high = edtf_bounds(value)
    assert (low.isoformat(), high.isoformat()) == (earliest, latest)


@pytest.mark.parametrize("value", ["2000-13", "yesterday", "1950-02-30", "1962/1958"])
def test_invalid_edtf_names_the_field(value):
    with pytest.raises(ValidationError) as info:
        edtf_bounds(value, field="issued")
    assert "issued" in info.value.message_dict


def test_source_derives_date_bounds_and_stable_key(library):
    source = make_source(library=library, issued="1960-07?", title="The withdrawal of specialists")
    assert source.issued_earliest.isoformat() == "1960-07-01"
    assert source.citation_key == "roshchin1960withdrawal"
    source.title = "Another title"
    source.issued = "1961"
    source.save()
    source.refresh_from_db()
    assert source.citation_key == "roshchin1960withdrawal"


def test_citation_keys_stay_unique_in_a_library(library):
    keys = {make_source(library=library).citation_key for _ in range(3)}
    assert keys == {"roshchin1950record", "roshchin1950recorda", "roshchin1950recordb"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL index")
def test_the_keys_that_start_with_a_base_key_are_read_from_an_index(library):
    """`assign_citation_key`'s prefix query is answered by the citation_key_prefix index
    (sources migration 0005), not by reading every key of the library."""
    make_source(library=library)
    others = [Source(library=library, title=f"Other {n}", citation_key=f"author{n}1950other")
              for n in range(300)]  # fmt: skip
    Source.objects.bulk_create(others)  # keys of the same library that do not match
    taken = Source.objects.filter(library=library, citation_key__startswith="roshchin1950")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE sources_source")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a test library is small
        plan = taken.order_by().values_list("citation_key", flat=True).explain()
    assert "citation_key_prefix" in plan, plan
    assert "Index Cond" in plan and "~>=~" in plan, plan  # the prefix bounds the scan


def test_cyrillic_names_are_transliterated_in_keys(library):
    source = make_source(library=library, creators=[{"family": "Рощин"}], title="Запись беседы")
    assert source.citation_key == "roshchin1950zapis"


def test_text_revision_is_canonical_checksummed_and_immutable(library):
    source = make_source(library=library)
    first = make_text(source=source, text="Cafe\u0301\r\nline")
    assert first.text == "Café\nline" and first.revision == 1
    assert first.verify()
    second = make_text(source=source, text="corrected")
    assert second.revision == 2
    assert source.current_text == second
    with pytest.raises(ValidationError):
        first.save()
    assert SourceText.objects.get(pk=first.pk).text == "Café\nline"


def test_visibility_scopes(library, alice, vera, mallory):
    make_source(library=library)
    assert Source.objects.visible_to(vera).count() == 1
    assert Source.objects.visible_to(mallory).count() == 0
    assert Source.objects.editable_by(vera).count() == 0
    assert Library.objects.editable_by(alice).count() == 1
    library.is_public = True
    library.save()
    assert Source.objects.visible_to(mallory).count() == 1
    assert Source.objects.editable_by(mallory).count() == 0


def test_a_source_created_with_its_creators_is_indexed_once(library):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from search.models import SearchEntry

    people = [{"family": name} for name in ("Roshchin", "Fedorenko", "Shi Zhe")]
    with CaptureQueriesContext(connection) as queries:
        source = Source.objects.create_with_creators(
            library=library, creators=people, title="Record of conversation"
        )
    inserts = [q for q in queries.captured_queries if 'INTO "annotations_searchentry"' in q["sql"]]
    assert len(inserts) == 1
    entry = SearchEntry.objects.get(source=source, kind="source")
    assert all(name in entry.body + entry.terms for name in ("Roshchin", "Fedorenko", "Shi Zhe"))
