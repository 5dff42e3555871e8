"""The reading view's blocks and the revision comparison, without HTTP."""

from __future__ import annotations

import time

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
    started = time.perf_counter()
    segments = compare_texts(old, new)
    assert time.perf_counter() - started < 2
    assert [(s.op, s.text) for s in segments if s.op != "equal"] == [
        ("delete", "w3001"),
        ("insert", "CHANGED"),
    ]


def test_compare_of_a_rewritten_paragraph_stays_fast():
    words = ["the", "treaty", "of", "alliance", "and", "price", "end", "Mao", "Stalin", "in"]
    old = " ".join(words[n * 7 % len(words)] for n in range(9000))
    new = " ".join(words[n * 5 % len(words)] for n in range(9000))
    started = time.perf_counter()
    segments = compare_texts(old, new)
    assert time.perf_counter() - started < 2
    assert "".join(s.text for s in segments if s.op != "delete") == new


def test_compare_of_a_long_rewrite_stays_fast():
    old = "\n".join(f"Sentence {n} about the treaty and its terms." for n in range(20_000))
    new = "\n".join(f"Paragraph {n} on the alliance, its price and its end." for n in range(20_000))
    started = time.perf_counter()
    segments = compare_texts(old, new)
    assert time.perf_counter() - started < 10
    assert "".join(s.text for s in segments if s.op != "delete") == new
