"""The text-reuse index: fingerprints written on import, rebuilt by `reindex_reuse`, and
what the demo library shows with them."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from sources.models import Library, SourceText
from sources.reuse import detection as reuse
from sources.reuse import reports as reuse_reports
from sources.reuse.models import ReuseFingerprint
from tests.factories import make_library, make_source, make_text
from tests.sources.reuse.test_texts import TREATY_ESSAY


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


pytestmark = pytest.mark.django_db


def test_fingerprint_offsets_are_code_points_of_the_stored_text(source, alice):
    text = make_text(
        source=source,
        text="👍🏽 𠮷 Товарищ Ста́лин сказал, что договор будет подписан в Москве в феврале 1950.",
        imported_by=alice,
    )
    words = reuse.words_of(text.text)
    starts = set(ReuseFingerprint.objects.filter(text=text).values_list("start", flat=True))
    assert starts and starts <= set(words.starts)
    assert {text.text[s] for s in starts} <= {w[0] for w in text.text.split()} | {"𠮷"}


def test_hashes_are_the_same_in_every_process():
    # A stored index must match queries made tomorrow, by another process.
    assert reuse.shingle_hashes(["in", "december", "mao", "zedong"]) == [-3661163857153213332]


def test_importing_a_revision_fingerprints_it_in_the_same_transaction(source, alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        make_text(source=source, text=" ".join(TREATY_ESSAY), imported_by=alice)
        assert ReuseFingerprint.objects.filter(text__source=source).count() > 10
        raise RuntimeError("the import fails after the text was stored")
    assert source.texts.count() == 1
    assert ReuseFingerprint.objects.filter(text=source.texts.get()).count() == 1


def test_raw_saves_from_fixtures_are_not_indexed(source):
    first = source.texts.get()
    copy = SourceText(
        source=source,
        revision=2,
        text=" ".join(TREATY_ESSAY),
        sha256="0" * 64,
        imported_at=timezone.now(),
    )
    copy.save_base(raw=True)
    assert not ReuseFingerprint.objects.filter(text=copy).exists()
    assert ReuseFingerprint.objects.filter(text=first).exists()


def test_deleting_a_source_deletes_its_fingerprints(source):
    source.delete()
    assert not ReuseFingerprint.objects.exists()


def test_reindex_rebuilds_the_current_texts_only(library, alice):
    source = make_source(library=library, title="Essay", citation_key="essay")
    old = make_text(source=source, text=" ".join(TREATY_ESSAY[:2]), imported_by=alice)
    new = make_text(source=source, text=" ".join(TREATY_ESSAY), imported_by=alice)
    expected = ReuseFingerprint.objects.filter(text=new).count()
    ReuseFingerprint.objects.all().delete()
    out, err = io.StringIO(), io.StringIO()
    call_command("reindex_reuse", stdout=out, stderr=err)
    assert ReuseFingerprint.objects.filter(text=new).count() == expected
    assert not ReuseFingerprint.objects.filter(text=old).exists()
    assert "Indexed 1 text" in out.getvalue() and "1/1 texts" in err.getvalue()


def test_reindex_of_one_library_leaves_the_others(library, source, alice):
    other = make_library(owner=alice, name="Another project")
    essay = make_text(source=make_source(library=other, title="Essay"), text=" ".join(TREATY_ESSAY))
    ReuseFingerprint.objects.all().delete()
    call_command("reindex_reuse", library=library.slug, stdout=io.StringIO(), verbosity=0)
    assert not ReuseFingerprint.objects.filter(text=essay).exists()
    assert ReuseFingerprint.objects.filter(library=library).exists()


def test_reindex_names_an_unknown_library():
    with pytest.raises(CommandError, match="nowhere"):
        call_command("reindex_reuse", library="nowhere", stdout=io.StringIO())


def test_differences_mark_dropped_years_and_changed_words_not_punctuation():
    this, other = reuse_reports.mark_differences(
        "In December , Mao Zedong left for Moscow, his first trip",
        "In December 1949, Mao Zedong left for Moscow; the first journey",
    )
    assert [p.text for p in this if p.differs] == ["his", "trip"]
    assert [p.text for p in other if p.differs] == ["1949", "the", "journey"]
    assert (
        "".join(p.text for p in other)
        == "In December 1949, Mao Zedong left for Moscow; the first journey"
    )


def test_direction_comes_from_the_dates(library):
    early = make_source(library=library, title="Early", issued="1950-01-01")
    late = make_source(library=library, title="Late", issued="2013")
    fuzzy = make_source(library=library, title="Fuzzy", issued="195X")
    undated = make_source(library=library, title="Undated", issued="")
    assert reuse_reports.suggest_direction(early, late) == reuse_reports.Direction.THIS_EARLIER
    assert reuse_reports.suggest_direction(late, early) == reuse_reports.Direction.OTHER_EARLIER
    assert reuse_reports.suggest_direction(early, fuzzy) == reuse_reports.Direction.OVERLAPPING
    assert reuse_reports.suggest_direction(undated, early) == reuse_reports.Direction.UNKNOWN


def test_the_demo_shows_reuse_on_its_own_texts_and_invents_no_sources():
    call_command("load_demo", stdout=io.StringIO())
    library = Library.objects.get(slug="mao-in-moscow")
    compilation = library.sources.get(citation_key="compilationmaostalin").current_text
    record = library.sources.get(citation_key="roshchin1950record").current_text
    draft = library.sources.get(citation_key="draftmaoinmoscow").current_text

    found = reuse_reports.report(compilation)
    # The originals are in the library without their texts: only the draft that quotes it.
    assert [match.other for match in found.matches] == [draft]
    quoted = [compilation.text[p.start : p.end] for p in found.matches[0].passages]
    assert quoted[0] == "In December , Mao Zedong traveled to Moscow, for his first trip abroad"
    assert any(q.startswith("After their first meeting at the Kremlin") for q in quoted)
    repeated = [compilation.text[p.start : p.end] for p in found.repeats]
    assert repeated == [
        "In December , Mao Zedong traveled to Moscow, for his first trip abroad",
        "And yet the relationship between China and Russia is closer than it has",
    ]

    # The draft comes apart into what it quotes: English from the compilation (the year
    # the scraper dropped restored), Russian from the record.
    attribution = reuse_reports.attribute(draft)
    assert {origin.text for origin in attribution.origins} == {compilation, record}
    assert 0.3 < attribution.share < 0.7  # quotations inside the historian's own prose
    from_record = next(o for o in attribution.origins if o.text == record)
    assert from_record.words >= 50
    assert reuse_reports.attribute(record).origins[0].text == draft
