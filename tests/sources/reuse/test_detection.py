"""Text-reuse detection (sources/reuse/detection.py) on SQLite and PostgreSQL alike."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from sources.models import SourceText
from sources.reuse import detection as reuse
from sources.reuse.models import ReuseFingerprint
from tests.factories import make_library, make_source, make_text
from tests.sources.reuse.test_texts import (
    BORDER_ARTICLE,
    CHINESE_HISTORY,
    COMPILATION_PARTS,
    ROSHCHIN_RECORD,
    TREATY_ESSAY,
    UNRELATED_NOTE,
    compilation,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Detections are cached by text and library; each test starts from nothing."""
    cache.clear()


pytestmark = pytest.mark.django_db


def _add(library, user, key: str, paragraphs: list[str], **fields) -> SourceText:
    source = make_source(library=library, title=key, citation_key=key, **fields)
    return make_text(source=source, text="\n\n".join(paragraphs), imported_by=user)


@pytest.fixture
def originals(library, alice) -> dict[str, SourceText]:
    return {
        "essay": _add(library, alice, "essay", TREATY_ESSAY, issued="1995", kind="secondary"),
        "border": _add(library, alice, "border", BORDER_ARTICLE, issued="2005"),
        "unrelated": _add(library, alice, "unrelated", UNRELATED_NOTE, issued="2010"),
        "roshchin": _add(library, alice, "roshchin", ROSHCHIN_RECORD, issued="1950-01-01"),
        "chinese": _add(library, alice, "chinese", CHINESE_HISTORY, issued="2001", language="zh"),
    }


@pytest.fixture
def compiled(library, alice, originals) -> SourceText:
    return _add(library, alice, "compilation", [compilation()], csl_type="webpage", issued="")


def test_words_are_normalised_so_dropped_years_and_punctuation_do_not_matter():
    a = reuse.words_of("In December 1949, Mao Zedong traveled to Moscow.")
    b = reuse.words_of("In December , Mao Zedong  traveled to MOSCOW")
    assert a.words == b.words == ["in", "december", "mao", "zedong", "traveled", "to", "moscow"]


def test_word_offsets_are_code_points_of_the_text():
    text = "𠮷 Сталин сказа́л: 毛泽东"
    words = reuse.words_of(text)
    assert [text[s:e] for s, e in zip(words.starts, words.ends, strict=True)] == [
        "𠮷", "Сталин", "сказа́л", "毛", "泽", "东",
    ]  # fmt: skip
    assert words.words[2] == "сказал"


def test_winnowing_keeps_one_hash_in_every_window():
    hashes = [5, 3, 8, 3, 9, 1, 7, 7, 2, 6, 4, 8, 9]
    kept = reuse.winnow(hashes, window=4)
    for i in range(len(hashes) - 3):
        assert any(i <= k < i + 4 for k in kept)
    assert kept == sorted(set(kept))


def test_a_new_revision_is_fingerprinted_and_replaces_its_predecessor(source, alice):
    first = source.texts.get()
    second = make_text(source=source, text=" ".join(TREATY_ESSAY), imported_by=alice)
    assert not ReuseFingerprint.objects.filter(text=first).exists()
    stored = ReuseFingerprint.objects.filter(text=second)
    assert stored.count() > 10
    assert set(stored.values_list("library", flat=True)) == {source.library_id}


def test_each_paragraph_of_a_compilation_is_found_in_its_original(compiled, originals):
    found = reuse.detect(compiled)
    origin_of = {text.pk: key for key, text in originals.items()}
    for expected, paragraph in COMPILATION_PARTS:
        start = compiled.text.index(paragraph)
        end = start + len(paragraph)
        inside = {origin_of[p.other_text_id] for p in found if p.start < end and start < p.end}
        assert inside == ({expected} if expected else set()), paragraph


def test_found_passages_point_at_the_copied_words_in_both_texts(compiled, originals):
    essay = originals["essay"]
    found = [p for p in reuse.detect(compiled) if p.other_text_id == essay.pk]
    original = TREATY_ESSAY[1]
    passage = next(p for p in found if essay.text[p.other_start : p.other_end] in original)
    assert essay.text[passage.other_start : passage.other_end] == original.rstrip(".")
    assert compiled.text[passage.start : passage.end].startswith("The reception")
    assert passage.similarity == 1.0


def test_unrelated_and_paraphrased_texts_share_nothing(library, alice, originals):
    paraphrase = _add(
        library,
        alice,
        "paraphrase",
        [
            "Mao went to Moscow by train at the end of 1949; it was the first time he had left "
            "China, and he hoped both to honour Stalin on his birthday and to agree a new pact."
        ],
    )
    assert reuse.detect(paraphrase) == []


def test_min_words_is_configurable(compiled, originals, settings):
    assert any(p.length < 40 for p in reuse.detect(compiled))
    settings.REUSE_MIN_WORDS = 40
    assert all(p.length >= 40 for p in reuse.detect(compiled))


def test_a_highlighted_passage_is_found_in_other_sources(library, alice, originals):
    essay = originals["essay"]
    copy = _add(library, alice, "copy", ["As one account puts it: " + TREATY_ESSAY[2]])
    quote = "a new treaty would overturn the one he had signed with the Nationalist government"
    start = essay.text.index(quote)
    found = reuse.find_passage(library.pk, essay, start, start + len(quote))
    assert [copy.text[p.other_start : p.other_end] for p in found] == [quote]


def test_a_highlighted_passage_finds_its_repeats_in_the_same_text(library, alice):
    line = "In December , Mao Zedong traveled to Moscow, for his first trip abroad."
    text = _add(library, alice, "repeats", [f"{line} Then more words follow here. {line}"])
    start = text.text.index(line)
    found = reuse.find_passage(library.pk, text, start, start + len(line))
    assert [(p.other_text_id, text.text[p.other_start : p.other_end]) for p in found] == [
        (text.pk, line.rstrip("."))
    ]


def test_internal_repeats_are_listed_once_each(library, alice):
    line = "And yet the relationship between China and Russia is closer than it has been"
    text = _add(library, alice, "repeats", [f"{line}. Between them, other words. {line} since."])
    repeats = reuse.internal_repeats(text)
    assert [
        (text.text[p.start : p.end], text.text[p.other_start : p.other_end]) for p in repeats
    ] == [(line, line)]


def test_detection_never_looks_outside_the_library(library, alice, originals):
    elsewhere = make_library(owner=alice, name="Another project")
    copy = _add(elsewhere, alice, "elsewhere", [TREATY_ESSAY[1]])
    assert reuse.detect(copy) == []
    assert all(p.other_text_id != copy.pk for p in reuse.detect(originals["essay"]))


def test_russian_passage_with_changed_punctuation_is_found(compiled, originals):
    roshchin = originals["roshchin"]
    found = [p for p in reuse.detect(compiled) if p.other_text_id == roshchin.pk]
    assert len(found) == 1
    quoted = roshchin.text[found[0].other_start : found[0].other_end]
    assert quoted == ROSHCHIN_RECORD[1].rstrip(".")


def test_chinese_passages_are_found_character_by_character(compiled, originals):
    chinese = originals["chinese"]
    found = [p for p in reuse.detect(compiled) if p.other_text_id == chinese.pk]
    quoted = {chinese.text[p.other_start : p.other_end] for p in found}
    assert any("毛泽东乘火车前往莫斯科" in q for q in quoted)
    assert any("别墅里等待了好几个星期" in q for q in quoted)


def _filler(count: int, seed: int) -> str:
    """Words no other text has (letters only: digits would vanish), in paragraphs."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = []
    for n in range(seed, seed + count):
        word = ""
        while n or not word:
            n, digit = divmod(n, 26)
            word += letters[digit]
        words.append(word)
    return "\n\n".join(" ".join(words[i : i + 60]) for i in range(0, count, 60))


def test_a_passage_inside_a_very_large_text_is_placed_exactly(library, alice):
    big = _add(
        library, alice, "big", [_filler(15_000, 1000), TREATY_ESSAY[2], _filler(15_000, 90_000)]
    )
    assert len(big.text) > reuse.LARGE_TEXT
    copy = _add(library, alice, "copy", ["A quotation: " + TREATY_ESSAY[2].upper()])
    [found] = reuse.detect(copy)
    assert big.text[found.other_start : found.other_end] == TREATY_ESSAY[2].rstrip(".")
