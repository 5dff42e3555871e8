"""The reading view's blocks and the revision comparison, without HTTP."""

from __future__ import annotations

import random
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from sources import reading
from sources.models import SourceText
from sources.reading import Piece, change_count, compare_texts, reading_blocks


def revision(text: str, page_map: list | None = None) -> SourceText:
    return SourceText(text=text, page_map=page_map or [])


def test_blocks_carry_offsets_that_slice_the_canonical_text():
    text = "Первый абзац.\n\n\n\n𠀀 второй\nс переносом.\n\nТретий."
    blocks = reading_blocks(revision(text))
    assert [text[b.start : b.start + len(b.text)] for b in blocks] == [b.text for b in blocks]
    assert [b.text for b in blocks] == ["Первый абзац.", "𠀀 второй\nс переносом.", "Третий."]


def test_page_breaks_split_a_paragraph_at_their_offset():
    text = "One two three.\n\nFour five."
    blocks = reading_blocks(revision(text, [[0, "12"], [4, "13"], [14, "14"], [99, "15"]]))
    assert blocks[0].pieces == [
        Piece("", "12"),
        Piece("One "),
        Piece("", "13"),
        Piece("two three."),
    ]
    # a break in the blank lines goes to the next paragraph's start, one past the end to the last
    assert blocks[1].pieces == [Piece("", "14"), Piece("Four five."), Piece("", "15")]
    assert "".join(p.text for b in blocks for p in b.pieces) == "One two three.Four five."


def test_page_map_out_of_order_is_sorted():
    blocks = reading_blocks(revision("Alpha beta.", [[6, "2"], [0, "1"]]))
    assert blocks[0].pages == ["1", "2"]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet="ab \n", min_size=0, max_size=12), max_size=12).map("\n\n".join),
    st.lists(st.integers(0, 150), max_size=6),
    st.integers(0, 6),
    st.one_of(st.none(), st.integers(0, 40)),
)
def test_a_window_of_blocks_is_that_window_of_all_the_blocks(text, breaks, first, chars):
    """The first screens are cut without building the rest (a 1 MB text's 3,400
    paragraphs): the same blocks, page breaks and all, as cutting the whole list."""
    shown = revision(text, [[at, str(n)] for n, at in enumerate(breaks)])
    everything = reading_blocks(shown)[first:]
    expected, total = [], 0
    for block in everything:
        if chars is not None and expected and total + len(block.text) > chars:
            break
        expected.append(block)
        total += len(block.text)
    window = reading_blocks(shown, first=first, chars=chars)
    assert [(b.start, b.text, b.breaks) for b in window] == [
        (b.start, b.text, b.breaks) for b in expected
    ]


def test_paragraphs_are_split_once_and_again_when_the_text_changes():
    shown = revision("One.\n\nTwo.")
    first = shown.paragraphs()
    first.append((99, "changed by the caller"))
    assert shown.paragraphs() == [(0, "One."), (6, "Two.")]
    shown.text = "Three."
    assert shown.paragraphs() == [(0, "Three.")]


def test_compare_marks_changed_words_only():
    segments = compare_texts("Mao met Stalin on 16 December.", "Mao met Stalin on 17 December.")
    assert [(s.op, s.text) for s in segments] == [
        ("equal", "Mao met Stalin on "),
        ("delete", "16"),
        ("insert", "17"),
        ("equal", " December."),
    ]
    assert change_count(segments) == {"insert": 1, "delete": 1}


def test_compare_counts_cjk_characters_as_words():
    segments = compare_texts("毛泽东访问莫斯科。", "毛泽东访问北京。")
    assert [s for s in segments if s.op == "delete"][0].text == "莫斯科"
    assert [s for s in segments if s.op == "insert"][0].text == "北京"


def test_compare_folds_long_unchanged_runs_but_keeps_all_text():
    lines = [f"Line {n}.\n" for n in range(40)]
    new = lines[:20] + ["Line 20, corrected.\n"] + lines[21:]
    segments = compare_texts("".join(lines), "".join(new))
    assert [s.op for s in segments].count("fold") == 2
    assert "".join(s.text for s in segments if s.op != "delete") == "".join(new)
    assert "".join(s.text for s in segments if s.op != "insert") == "".join(lines)


def test_compare_of_identical_texts_has_no_changes():
    segments = compare_texts("Same.\n\nText.", "Same.\n\nText.")
    assert change_count(segments) == {"insert": 0, "delete": 0}


def test_compare_finds_single_words_in_a_long_paragraph():
    words = [f"w{n}" if n % 3 else "the" for n in range(6000)]
    old, new = " ".join(words), " ".join(words[:3001] + ["CHANGED"] + words[3002:])
    started = time.process_time()
    segments = compare_texts(old, new)
    assert time.process_time() - started < 2
    assert [(s.op, s.text) for s in segments if s.op != "equal"] == [
        ("delete", "w3001"),
        ("insert", "CHANGED"),
    ]


def test_compare_of_a_rewritten_paragraph_stays_fast():
    words = ["the", "treaty", "of", "alliance", "and", "price", "end", "Mao", "Stalin", "in"]
    old = " ".join(words[n * 7 % len(words)] for n in range(9000))
    new = " ".join(words[n * 5 % len(words)] for n in range(9000))
    started = time.process_time()
    segments = compare_texts(old, new)
    assert time.process_time() - started < 2
    assert "".join(s.text for s in segments if s.op != "delete") == new


def test_compare_of_a_long_rewrite_stays_fast():
    old = "\n".join(f"Sentence {n} about the treaty and its terms." for n in range(20_000))
    new = "\n".join(f"Paragraph {n} on the alliance, its price and its end." for n in range(20_000))
    started = time.process_time()
    segments = compare_texts(old, new)
    assert time.process_time() - started < 10
    assert "".join(s.text for s in segments if s.op != "delete") == new


# --- adversarial comparisons: near-linear whatever the texts (before: difflib, quadratic) --
# Times are CPU time, which other processes on the machine do not stretch.

words = st.lists(st.sampled_from(["Mao", "Stalin", "the", " ", "\n", "\n\n", ",", "毛", "x"]))


@settings(max_examples=400, deadline=None)
@given(words, words)
def test_compare_keeps_both_texts_whole(old_words, new_words):
    old, new = "".join(old_words), "".join(new_words)
    segments = compare_texts(old, new)
    assert "".join(s.text for s in segments if s.op not in ("insert",)) == old
    assert "".join(s.text for s in segments if s.op not in ("delete",)) == new


def random_words(count: int, seed: int) -> str:
    rng = random.Random(seed)
    return " ".join(f"w{rng.randrange(100_000)}" for _ in range(count))


def test_compare_of_two_long_lines_completely_different_is_fast_and_says_so():
    """Two 40 KB revisions without a line break and without a word in common: 51.6 s
    before, for an anonymous reader of a published library."""
    old, new = random_words(6_000, 1)[:40_000], random_words(6_000, 2)[:40_000]
    started = time.process_time()
    segments = compare_texts(old, new)
    assert time.process_time() - started < 1
    assert [(s.op, s.text) for s in segments] == [("delete", old), ("insert", new)]
    assert segments.coarse


def test_compare_of_a_long_line_repeated_with_small_changes_finds_each_change():
    line = random_words(2_000, 3)
    old = "\n".join([line] * 20)
    new = "\n".join(f"{line} {n}" for n in range(20))
    started = time.process_time()
    segments = compare_texts(old, new)
    assert time.process_time() - started < 1
    assert [s.text for s in segments if s.op == "insert"] == [f" {n}" for n in range(20)]
    assert not any(s.op == "delete" for s in segments) and not segments.coarse


def test_compare_of_many_identical_lines_shuffled_is_fast():
    rng = random.Random(4)
    old = ["The same line.\n"] * 19_000 + ["Another line.\n"] * 1_000
    new = rng.sample(old, len(old))
    started = time.process_time()
    segments = compare_texts("".join(old), "".join(new))
    assert time.process_time() - started < 2
    assert "".join(s.text for s in segments if s.op != "delete") == "".join(new)


def test_compare_of_one_megabyte_revisions_is_near_linear():
    paragraphs = [random_words(80, n) for n in range(1_600)]  # about 1 MB
    old = "\n\n".join(paragraphs)
    new = "\n\n".join(p.replace("w", "v", 1) for p in paragraphs)  # every paragraph edited
    started = time.process_time()
    segments = compare_texts(old, new)
    assert time.process_time() - started < 3
    assert change_count(segments) == {"insert": 1_600, "delete": 1_600}
    assert not segments.coarse


def test_compare_past_its_work_limit_shows_the_changed_paragraphs_whole(monkeypatch):
    monkeypatch.setattr(reading, "MAX_COMPARE_WORK", 10)
    old, new = "One two three four five six.", "Six five four three two one."
    segments = compare_texts(old, new)
    assert [(s.op, s.text) for s in segments] == [("delete", old), ("insert", new)]
    assert segments.coarse
