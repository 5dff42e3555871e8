"""The one-statement annotation create (`annotations.writes`, PostgreSQL) writes exactly the
rows the ORM path writes: the same inputs both ways, every column of every row compared."""

from __future__ import annotations

import functools
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import signals
from django.test.utils import CaptureQueriesContext
from simple_history.models import HistoricalRecords

from annotations import writes
from annotations.models import ANNOTATION_HISTORY, Annotation, Tag, Visibility
from search import index as search_index
from search.models import SearchEntry, SearchWord
from tests.factories import make_creator, make_source, make_text

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the one-statement create is PostgreSQL's"
)

TEXT = (
    "Stalin received Mao in the Kremlin on 16 December 1949 and asked what he wanted; "
    "Mao spoke of a thing that should look good and taste good. Вышинский was present."
)


@pytest.fixture
def text(library, alice):
    source = make_source(
        library=library,
        title="Conversation between Stalin and Mao, Moscow",
        creators=[{"family": "Stalin", "given": "I. V."}],
        archive="APRF",
        language="ru",
        issued="1949-12-16",
    )
    make_creator(source=source, role="translator", literal="Wilson Center")
    return make_text(source=source, text=TEXT, imported_by=alice)


def create_both_ways(monkeypatch, **fields) -> tuple[Annotation, Annotation]:
    """(made by the ORM path, made by the one statement), from the same arguments."""
    with monkeypatch.context() as patched:
        patched.setattr(writes, "supported", lambda using: False)
        by_orm = writes.create_annotation(**fields)
    fast = writes.create_annotation(**fields)
    assert fast.pk != by_orm.pk
    return by_orm, fast


def row(model, exclude: set[str], **lookup) -> dict:
    found = list(model.objects.filter(**lookup).values())
    assert len(found) == 1, (model, lookup, found)
    return {k: v for k, v in found[0].items() if k not in exclude}


def written(annotation: Annotation) -> dict:
    """Every row the create wrote about `annotation`, without what names it (ids, keys,
    timestamps): what both ways must write alike."""
    historical = Annotation.history.model
    record = historical.objects.get(id=annotation.pk)
    tags_history = ANNOTATION_HISTORY.m2m_models[Annotation._meta.get_field("tags")]
    through = Annotation.tags.through
    entry = SearchEntry.objects.get(key=f"a:{annotation.pk}")
    tagged = through.objects.filter(annotation=annotation)
    copied = [  # each record row copies a through row: same id, annotation and tag
        (r.id, r.annotation_id, r.tag_id)
        for r in tags_history.objects.filter(history=record)
        if tagged.filter(pk=r.id, annotation_id=r.annotation_id, tag_id=r.tag_id).exists()
    ]
    return {
        "annotation": row(Annotation, {"id", "created", "modified"}, pk=annotation.pk),
        "tags": sorted(tagged.values_list("tag_id", flat=True)),
        "history": row(historical, {"id", "history_id", "history_date", "created"}, id=record.id),
        "history tags": sorted(tag for _, _, tag in copied),
        "history tags copied": len(copied) == tagged.count(),
        "history's created": record.created == annotation.created,
        "entry": row(SearchEntry, {"id", "key", "annotation_id"}, pk=entry.pk),
        "entry's annotation": entry.annotation_id == annotation.pk,
    }


CASES = {
    "plain highlight": {"start": 0, "end": 6},
    "tagged, one tag new": {
        "start": 16,
        "end": 19,
        "tags": ["person:Mao", "theme:face", "Kremlin"],
    },
    "the same tag twice, in two spellings": {"start": 7, "end": 15, "tags": ["Moscow", "moscow"]},
    "Markdown comment": {
        "start": 23,
        "end": 30,
        "comment": "*Mao* asked [why](https://x.org)\n\n- a\n- b",
    },
    "raw HTML in the comment": {
        "start": 31,
        "end": 40,
        "comment": "<script>alert(1)</script><b>ok</b> &amp;",
    },
    "private, with a motivation": {
        "start": 41,
        "end": 57,
        "visibility": Visibility.PRIVATE,
        "motivation": "questioning",
        "comment": "Was he?",
    },
    "Cyrillic quote, fuzzy state": {
        "start": 140,
        "end": 149,
        "state": "fuzzy",
        "anchor_score": 0.75,
    },
}


@pytest.mark.parametrize("case", CASES)
def test_both_ways_write_the_same_rows(monkeypatch, text, bob, case):
    Tag.objects.create(library=text.source.library, name="person:Mao")
    by_orm, fast = create_both_ways(monkeypatch, text=text, creator=bob, **CASES[case])
    assert written(fast) == written(by_orm)
    assert written(fast)["history"]["history_type"] == "+"


def test_both_ways_record_the_requests_user_in_the_history(monkeypatch, text, bob, alice):
    """simple_history takes the user from the request its middleware holds."""
    HistoricalRecords.context.request = SimpleNamespace(user=alice)
    try:
        by_orm, fast = create_both_ways(monkeypatch, text=text, creator=bob, start=0, end=6)
    finally:
        del HistoricalRecords.context.request
    assert written(fast) == written(by_orm)
    assert Annotation.history.get(id=fast.pk).history_user == alice


def test_the_instance_is_the_one_the_orm_would_give(monkeypatch, text, bob):
    by_orm, fast = create_both_ways(monkeypatch, text=text, creator=bob, start=0, end=6,
                                    tags=["b", "A"], hold_tags=True)  # fmt: skip
    for name in [f.attname for f in Annotation._meta.concrete_fields]:
        if name not in ("id", "created", "modified"):
            assert getattr(fast, name) == getattr(by_orm, name), name
    assert Annotation.objects.get(pk=fast.pk).created == fast.created
    assert not fast._state.adding
    with CaptureQueriesContext(connection) as held:
        assert (
            [t.name for t in fast.tags.all()] == [t.name for t in by_orm.tags.all()] == ["A", "b"]
        )
    assert len(held) == 0


def test_a_new_word_joins_the_librarys_vocabulary(text, bob):
    writes.create_annotation(text=text, creator=bob, start=0, end=6,
                                         comment="Zhdanovshchina", tags=["quokka"])  # fmt: skip
    words = set(
        SearchWord.objects.filter(library=text.source.library).values_list("word", flat=True)
    )
    assert {"zhdanovshchina", "quokka", "stalin"} <= words


def test_one_statement_writes_it(text, bob):
    """After the text is read: the tags, the source's creators and the one statement."""
    Tag.objects.create(library=text.source.library, name="theme:face")
    with CaptureQueriesContext(connection) as captured:
        writes.create_annotation(text=text, creator=bob, start=0, end=6,
                                             tags=["theme:face"])  # fmt: skip
    statements = [query["sql"] for query in captured.captured_queries]
    assert len(statements) == 3, statements
    assert statements[-1].lstrip().startswith("WITH")


def test_with_the_index_disconnected_no_entry_is_written(text, bob):
    search_index.disconnect()
    try:
        created = writes.create_annotation(text=text, creator=bob, start=0, end=6)
    finally:
        search_index.connect()
    assert Annotation.history.filter(id=created.pk).count() == 1
    assert not SearchEntry.objects.filter(annotation_id=created.pk).exists()


def test_without_prepared_statements_it_is_the_same_statement(monkeypatch, text, bob, settings):
    settings.DB_PREPARED_STATEMENTS = False
    by_orm, fast = create_both_ways(monkeypatch, text=text, creator=bob, start=0, end=6,
                                    tags=["x"])  # fmt: skip
    assert written(fast) == written(by_orm)


def test_a_bad_tag_writes_nothing_and_leaves_the_transaction_usable(text, bob):
    counts = (Annotation.objects.count(), Tag.objects.count(), SearchEntry.objects.count())
    with transaction.atomic():
        with pytest.raises(ValidationError) as raised:
            writes.create_annotation(text=text, creator=bob, start=0, end=6,
                                                 tags=["fine", "  "])  # fmt: skip
        assert "tags" in raised.value.message_dict
        assert Annotation.objects.count() == counts[0]  # still usable: not marked for rollback
    assert (Annotation.objects.count(), Tag.objects.count(), SearchEntry.objects.count()) == counts


@pytest.mark.django_db(transaction=True)
def test_a_failed_statement_leaves_no_row_behind(text, bob):
    """A tag that is not there fails the statement (at commit: Django's foreign keys are
    deferred); none of the six tables keeps anything."""
    historical = Annotation.history.model

    def counts() -> list[int]:
        return [model.objects.count() for model in
                (Annotation, Annotation.tags.through, historical, SearchEntry)]  # fmt: skip

    before = counts()
    annotation = Annotation(library=text.source.library, text=text, creator=bob)
    annotation.set_anchor(0, 6)
    annotation.set_comment("")
    annotation.motivation = annotation.default_motivation()
    with pytest.raises(IntegrityError), transaction.atomic():
        writes.insert_new(annotation, [Tag(pk=10**12, name="gone")], "default")
    assert counts() == before


def receiver_name(receiver) -> str:
    if isinstance(receiver, functools.partial):
        receiver = receiver.func
    return f"{receiver.__module__}.{receiver.__qualname__}"


def test_the_statement_stands_in_for_every_receiver_the_orm_path_triggers():
    """A receiver added later for annotations or their tags would be skipped on
    PostgreSQL: this fails until `writes.stands_in_for()` (and the statement) take it in."""
    found = {
        "post_save": signals.post_save._live_receivers(Annotation),
        "m2m_changed": signals.m2m_changed._live_receivers(Annotation.tags.through),
        "pre_save": signals.pre_save._live_receivers(Annotation),
    }
    names = {
        signal: sorted(receiver_name(r) for group in receivers for r in group)
        for signal, receivers in found.items()
    }
    assert names == {"pre_save": []} | {k: sorted(v) for k, v in writes.stands_in_for().items()}
