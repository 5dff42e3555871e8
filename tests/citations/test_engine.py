"""The citation engine, against pandoc's own golden outputs and what historians expect."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.cache import cache

from citations import engine as citations
from citations.engine import Citation, render_bibliography, render_notes

EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "csl" / "examples"
SAMPLE = json.loads((EXAMPLES / "cwihp-sample.csl.json").read_text(encoding="utf-8"))
BY_ID = {item["id"]: item for item in SAMPLE}
# The citations of cwihp-sample.md, in order: [@rgani-memo, 3] … [@rgani-memo, 4].
SAMPLE_CITATIONS = [
    Citation(BY_ID["rgani-memo"], "3"),
    *(Citation(BY_ID[key]) for key in ("letter-k-m", "fp-article", "nyt", "web")),
    Citation(BY_ID["book"], "12-14"),
    *(Citation(BY_ID[key]) for key in ("chapter", "report", "interview", "undated")),
    Citation(BY_ID["rgani-memo"], "4"),
]
NOTE_STYLES = (
    "chicago-notes-bibliography",
    "chicago-notes-bibliography-17th-edition",
    "chicago-note-bibliography",
)

MEMO = {
    "id": "gromyko1961memorandum",
    "type": "manuscript",
    "title": "Запись беседы с послом ГДР",
    "genre": "Memorandum of conversation",
    "author": [{"family": "Громыко", "given": "Андрей Андреевич"}],
    "translator": [{"family": "Weathersby", "given": "Kathryn"}],
    "issued": {"date-parts": [[1961, 8, 3]]},
    "archive": "Russian State Archive of Contemporary History (RGANI)",
    "archive-place": "Moscow",
    "archive_collection": "Central Committee General Department",
    "archive_location": "f. 5, op. 30, d. 365, ll. 1–5",
    "language": "ru",
}


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pandoc_runs(monkeypatch):
    """Every pandoc job this test starts: (mode, number of references); an HTML
    bibliography (pandoc's own writer, no driver) is a "bibliography" job too."""
    runs: list[tuple[str, int]] = []
    real, real_html = citations.run_driver, citations.run_html_bibliography

    def counting(job, references):
        runs.append((job["mode"], len(references)))
        return real(job, references)

    def counting_html(info, lang, references):
        runs.append(("bibliography", len(references)))
        return real_html(info, lang, references)

    monkeypatch.setattr(citations, "run_driver", counting)
    monkeypatch.setattr(citations, "run_html_bibliography", counting_html)
    return runs


def golden(style: str) -> tuple[list[str], list[str], str]:
    """(bibliography entries, notes, first line) of an expected-pandoc file."""
    text = (EXAMPLES / f"expected-pandoc-3.9-{style}.txt").read_text(encoding="utf-8")
    blocks = [block.strip() for block in text.strip().split("\n\n")]
    notes = [re.sub(r"^\[\d+\] ", "", b) for b in blocks if re.match(r"\[\d+\] ", b)]
    entries = [b for b in blocks[2:] if not re.match(r"\[\d+\] ", b)]
    return entries, notes, blocks[0]


# --- Golden outputs -------------------------------------------------------------------


@pytest.mark.parametrize("style", [*NOTE_STYLES, "apa", "modern-language-association"])
def test_bibliography_matches_pandocs_golden_output(style):
    entries, _, _ = golden(style)
    assert render_bibliography(SAMPLE, style=style, fmt="text") == entries


@pytest.mark.parametrize("style", NOTE_STYLES)
def test_full_and_short_notes_match_pandocs_golden_footnotes(style):
    _, expected, _ = golden(style)
    notes = render_notes(SAMPLE_CITATIONS, style=style, fmt="text")
    assert [full for full, _ in notes[:10]] == expected[:10]
    assert notes[10][1] == expected[10]  # the memorandum cited again: the short note


@pytest.mark.parametrize("style", ["apa", "modern-language-association"])
def test_in_text_citations_match_pandocs_golden_output(style):
    _, _, first_line = golden(style)
    expected = re.findall(r"\.(\(.*?\))(?= |$)", first_line)
    notes = render_notes(SAMPLE_CITATIONS, style=style, fmt="text")
    assert [full for full, _ in notes] == expected


# --- What a historian checks ---------------------------------------------------------


def test_chicago_archival_note_runs_from_item_to_archive_and_place():
    full, short = render_notes([Citation(MEMO, "3", "folio")], fmt="text")[0]
    order = [
        "Андрей Андреевич Громыко",
        "“Запись беседы с послом ГДР,”",
        "August 3, 1961",
        "f. 5, op. 30, d. 365, ll. 1–5",
        "fol. 3",
        "Central Committee General Department",
        "Russian State Archive of Contemporary History (RGANI)",
        "Moscow",
    ]
    positions = [full.index(part) for part in order]
    assert positions == sorted(positions)
    assert short == "Громыко, “Запись беседы с послом ГДР,” fol. 3."


def test_translator_is_credited_as_translator_not_author():
    full, short = render_notes([Citation(MEMO)], fmt="text")[0]
    entry = render_bibliography([MEMO], fmt="text")[0]
    assert full.startswith("Андрей Андреевич Громыко, ")
    assert "trans. Kathryn Weathersby" in full
    assert entry.startswith("Громыко, Андрей Андреевич. ")
    assert "Translated by Kathryn Weathersby" in entry
    assert "Weathersby" not in short


def test_cyrillic_names_keep_full_given_names_in_every_style():
    for style in ("chicago-notes-bibliography", "modern-language-association"):
        assert (
            "Громыко, Андрей Андреевич" in render_bibliography([MEMO], style=style, fmt="text")[0]
        )
    assert render_bibliography([MEMO], style="apa", fmt="text")[0].startswith("Громыко, А. А.")


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("chicago-notes-bibliography", "[July 1958?]"),
        ("apa", "(ca. 1958, July)"),
        ("modern-language-association", "Circa July 1958"),
    ],
)
def test_approximate_date_is_written_as_each_style_expects(style, expected):
    assert expected in render_bibliography([BY_ID["letter-k-m"]], style=style, fmt="text")[0]


def test_date_range_is_rendered_as_a_range():
    item = MEMO | {"id": "range", "issued": {"date-parts": [[1958], [1962]]}}
    assert "1958–1962" in render_bibliography([item], fmt="text")[0]


def test_html_and_markdown_keep_italics_and_links():
    book = BY_ID["book"]
    assert "<em>An Illustrative History of the Cold War</em>" in render_bibliography([book])[0]
    web = render_bibliography([BY_ID["web"]], fmt="markdown")[0]
    assert "<https://digitalarchive.wilsoncenter.org/about>" in web
    markdown = render_bibliography([book], fmt="markdown")[0]
    assert "*An Illustrative History of the Cold War*" in markdown


def test_locator_labels_use_the_terms_of_the_locale():
    cites = [Citation(MEMO, "3"), Citation(MEMO, "2v", "folio"), Citation(MEMO, "4", "paragraph")]
    russian = [full for full, _ in render_notes(cites, locale="ru", fmt="text")]
    assert "с. 3" in russian[0]
    assert "л. 2v" in russian[1]
    english = [short for _, short in render_notes(cites, fmt="text")]
    assert english[1].endswith("fol. 2v.")
    assert english[2].endswith("para. 4.")


def test_suffix_that_starts_with_a_number_is_not_taken_for_a_page():
    full, _ = render_notes([Citation(BY_ID["book"], suffix="1950 edition")], style="apa")[0]
    assert full == "(Brown, 2007, 1950 edition)"


def test_second_citation_of_the_same_item_gets_its_own_full_note():
    notes = render_notes([Citation(MEMO, "3"), Citation(MEMO, "7")], fmt="text")
    assert notes[0][0].startswith("Андрей Андреевич Громыко") and "p. 3" in notes[0][0]
    assert notes[1][0].startswith("Андрей Андреевич Громыко") and "p. 7" in notes[1][0]
    assert notes[1][1].endswith("ГДР,” 7.")


def test_short_note_is_never_ibid_even_in_an_ibid_style():
    style = "chicago-notes-bibliography-subsequent-ibid"
    _, short = render_notes([Citation(MEMO, "3")], style=style, fmt="text")[0]
    assert short == "Громыко, “Запись беседы с послом ГДР,” 3."


def test_same_author_and_year_get_year_suffixes_only_together():
    first = MEMO | {"id": "a", "title": "Первая запись"}
    second = MEMO | {"id": "b", "title": "Вторая запись"}
    both = render_bibliography([first, second], style="apa", fmt="text")
    # APA sorts by title within the year: В before П.
    assert [entry[:25] for entry in both] == [
        "Громыко, А. А. (1961a). В",
        "Громыко, А. А. (1961b). П",
    ]
    alone = render_bibliography([second], style="apa", fmt="text")  # partly cached now
    assert alone[0].startswith("Громыко, А. А. (1961). Вторая")


def test_repeated_author_is_replaced_by_dashes_only_after_the_first_entry():
    other = MEMO | {"id": "b", "title": "Вторая запись"}
    entries = render_bibliography([other, MEMO], style="modern-language-association", fmt="text")
    assert entries[0].startswith("Громыко, Андрей Андреевич. “Вторая")
    assert entries[1].startswith("———. “Запись")


# --- Cache and order ------------------------------------------------------------------


def test_warm_bibliography_needs_no_pandoc(pandoc_runs):
    first = render_bibliography(SAMPLE, fmt="html")
    assert pandoc_runs == [("bibliography", 10)]
    assert render_bibliography(SAMPLE, fmt="html") == first
    assert render_bibliography(list(reversed(SAMPLE)), fmt="html") == first
    assert len(pandoc_runs) == 1


def test_editing_a_source_rerenders_only_it_and_keeps_the_style_order(pandoc_runs):
    render_bibliography(SAMPLE, fmt="text")
    edited = [dict(item) for item in SAMPLE]
    edited[5] = edited[5] | {"author": [{"family": "Aaronson", "given": "Carol"}]}  # the book
    entries = render_bibliography(edited, fmt="text")
    assert sorted(pandoc_runs[1:]) == [("bibliography", 1), ("order", 10)]
    assert entries[0].startswith("Aaronson, Carol. An Illustrative History")
    assert entries == render_bibliography(edited, fmt="text", style="chicago-notes-bibliography")


def test_a_subset_of_a_sorted_selection_is_ordered_from_the_cache(pandoc_runs):
    full = render_bibliography(SAMPLE, fmt="text")
    subset = render_bibliography(SAMPLE[::2], fmt="text")
    assert len(pandoc_runs) == 1
    assert subset == [entry for entry in full if entry in subset]


FAMILIES = ["Gromyko", "Громыко", "Khrushchev", "Zhou", "Brown", "Ōhira", "Smith", "Черненко"]


def library_of(count: int) -> list[dict]:
    """`count` items made from the sample's (real archival and published references): its
    ten, each again under other authors and with other titles and dates, so that several
    authors have many entries and some entries differ only in their id (equal sort keys)."""
    made = []
    for n in range(count):
        item = dict(SAMPLE[n % len(SAMPLE)])
        if n >= len(SAMPLE):
            family = FAMILIES[n * 7 % len(FAMILIES)]
            item["author"] = [{"family": family, "given": "A."}]
            item["title"] = f"{item.get('title', 'Untitled')} {n // 3}"  # triples tie
            item["issued"] = {"date-parts": [[1945 + n % 40]]}
        made.append(item | {"id": f"item{n}"})
    return made


def full_run(items: list[dict], style: str = "chicago-notes-bibliography") -> list[str]:
    """pandoc's own bibliography of `items`: one run over all of them, nothing cached."""
    cache.clear()
    info = citations.style_info(citations.resolve_style(style))
    digests = [citations.item_digest(item) for item in items]
    inputs, _ = citations._input_order(info, digests)
    _, sections = citations._bibliography_job(info, "en-US", "text", items, inputs)()
    return sections


def test_an_edited_entry_lands_where_pandoc_puts_it_without_sorting_the_selection(pandoc_runs):
    """After one edit, the new entry is placed by two small sorts (among 100 pivots, then
    among the entries between its two), not by sorting the selection again."""
    items = library_of(400)
    render_bibliography(items, fmt="text")
    edited = [dict(item) for item in items]
    edited[123] = edited[123] | {"author": [{"family": "Mikoyan", "given": "Anastas"}]}
    edited[321] = edited[321] | {"title": "Aaa first of its author"}
    del pandoc_runs[:]
    entries = render_bibliography(edited, fmt="text")
    orders = [count for mode, count in pandoc_runs if mode == "order"]
    assert orders and max(orders) <= citations.PIVOTS + 2 and len(orders) <= 3, pandoc_runs
    assert entries == full_run(edited)
    assert any(entry.startswith("Mikoyan, Anastas.") for entry in entries)


@pytest.mark.parametrize("edited_at", [0, 57, 399])
def test_an_edited_entry_is_found_again_near_its_old_place_by_one_small_sort(
    pandoc_runs, edited_at
):
    """A correction that leaves an entry near where it was (a title's typo, a date, an
    archive's folio): one sort among the NEAR entries each side of its old place, and the
    entry where pandoc puts it, at either end of the selection too."""
    items = library_of(400)
    target = citations.render_bibliography_keyed(items, fmt="text")[edited_at][0]
    edited = [dict(item) for item in items]
    index = items.index(target)
    edited[index] = edited[index] | {"title": f"{target['title']} (corrected)"}
    del pandoc_runs[:]
    entries = render_bibliography(edited, fmt="text")
    low, high = max(0, edited_at - citations.NEAR), min(399, edited_at + citations.NEAR)
    assert [count for mode, count in pandoc_runs if mode == "order"] == [high - low + 1]
    assert entries == full_run(edited)
    assert "(corrected)" in entries[edited_at].casefold()


def test_an_edited_entry_that_moves_far_is_placed_among_pivots(pandoc_runs):
    """An edit that moves an entry out of the stretch around its old place (a new first
    author) costs the small sort that found it gone, then those of `_place` (one when it
    lands before the first pivot)."""
    items = library_of(400)
    render_bibliography(items, fmt="text")
    edited = [dict(item) for item in items]
    edited[123] = edited[123] | {"author": [{"family": "Aardvark", "given": "A."}]}
    del pandoc_runs[:]
    entries = render_bibliography(edited, fmt="text")
    orders = [count for mode, count in pandoc_runs if mode == "order"]
    assert orders[0] == 2 * citations.NEAR + 1, pandoc_runs  # the stretch around 123
    assert 2 <= len(orders) <= 3 and max(orders[1:]) <= citations.PIVOTS + 2, pandoc_runs
    assert entries == full_run(edited)
    assert entries[0].startswith("Aardvark, A.")


def test_an_edited_entry_without_a_csl_id_is_placed_among_pivots(pandoc_runs):
    items = [{k: v for k, v in item.items() if k != "id"} for item in library_of(150)]
    render_bibliography(items, fmt="text")
    edited = [dict(item) for item in items]
    edited[40] = edited[40] | {"title": "Zzz last of its author"}
    del pandoc_runs[:]
    entries = render_bibliography(edited, fmt="text")
    pivots = len(range(0, 149, -(-149 // citations.PIVOTS)))  # `_place`'s, among 149 known
    assert [count for mode, count in pandoc_runs if mode == "order"][0] == pivots + 1
    assert entries == full_run(edited)


def test_many_new_entries_are_placed_in_their_gaps_ties_included(pandoc_runs, monkeypatch):
    monkeypatch.setattr(citations, "PIVOTS", 7)  # many gaps, several new entries in one
    items = library_of(120)
    render_bibliography(items[:100], fmt="text")
    del pandoc_runs[:]
    entries = render_bibliography(items, fmt="text")  # 20 new, some equal to known ones
    assert all(count < 100 for mode, count in pandoc_runs if mode == "order"), pandoc_runs
    assert entries == full_run(items)


@pytest.mark.parametrize(
    "style", [NOTE_STYLES[0], NOTE_STYLES[1], "apa", "modern-language-association"]
)
def test_a_new_selection_renders_on_every_core_as_pandoc_alone_would(
    pandoc_runs, monkeypatch, style
):
    """One run per core, each rendering and sorting a part of the selection that should
    sort before the next, and one small sort that checks the parts' bounds: no sort of the
    whole selection. Whole context groups per part, so "2020a" (APA) and "———" (MLA,
    Chicago 17th) come out as in one run."""
    monkeypatch.setattr(citations, "SPLIT_FROM", 5)
    monkeypatch.setattr(citations.os, "cpu_count", lambda: 3)
    items = library_of(150)
    entries = render_bibliography(items, style=style, fmt="text")
    rendered = [count for mode, count in pandoc_runs if mode == "bibliography"]
    checks = [count for mode, count in pandoc_runs if mode == "order"]
    assert len(rendered) == 3 and sum(rendered) == 150 and checks == [4], pandoc_runs
    assert entries == full_run(items, style)


def test_parts_guessed_out_of_order_are_sorted_whole(pandoc_runs, monkeypatch):
    monkeypatch.setattr(citations, "SPLIT_FROM", 5)
    guess = citations._sort_guess

    def backwards(item: dict) -> str:  # "z" first, then "y"…
        return "".join(chr(0x2FFFF - ord(c)) for c in guess(item))

    monkeypatch.setattr(citations, "_sort_guess", backwards)
    items = library_of(60)
    entries = render_bibliography(items, fmt="text")
    assert [mode for mode, _ in pandoc_runs].count("order") == 2  # the check, then the sort
    assert ("order", 60) in pandoc_runs
    assert entries == full_run(items)


@pytest.mark.parametrize("style", [*NOTE_STYLES, "apa", "modern-language-association"])
def test_golden_bibliography_in_parts_matches_pandocs(monkeypatch, style):
    monkeypatch.setattr(citations, "SPLIT_FROM", 1)
    entries, _, _ = golden(style)
    assert render_bibliography(SAMPLE, style=style, fmt="text") == entries


def driver_html(items: list[dict], style: str) -> list[str]:
    """The HTML entries of one driver run over `items` (`citeproc-driver.lua`: pandoc's
    HTML writer called from Lua, entries cut at sentinels), nothing cached: the path HTML
    took before pandoc wrote it alone, kept for the other formats."""
    info = citations.style_info(citations.resolve_style(style))
    digests = [citations.item_digest(item) for item in items]
    inputs, _ = citations._input_order(info, digests)
    references = [citations._renderable(items[i], f"m{i}") for i in inputs]
    ids = [reference["id"] for reference in references]
    job = citations._job(info, "en-US", "html", mode="bibliography", ids=ids)
    return citations.run_driver(job, references)[1]


@pytest.mark.parametrize(
    "style", [*NOTE_STYLES, "apa", "modern-language-association", "ieee", "chicago-author-date"]
)
def test_html_written_by_pandoc_alone_in_parts_matches_the_drivers(pandoc_runs, monkeypatch, style):
    """HTML entries come from `pandoc --citeproc -t html` (no Lua), cut at each entry's
    div, a part per core: byte for byte the driver's, year suffixes ("2020a"), "———",
    numbers and IEEE's aligned labels included."""
    monkeypatch.setattr(citations, "SPLIT_FROM", 5)
    monkeypatch.setattr(citations.os, "cpu_count", lambda: 2)
    items = library_of(150)
    entries = render_bibliography(items, style=style, fmt="html")
    parts = [count for mode, count in pandoc_runs if mode == "bibliography"]
    assert len(parts) == (1 if style == "ieee" else 2), pandoc_runs  # ieee numbers its entries
    assert entries == driver_html(items, style)
    assert "<em>" in "".join(entries)


def test_html_entries_keep_markup_in_metadata_escaped_and_pandocs_own_tags_out():
    item = MEMO | {"title": 'A title\n<div id="ref-m0" class="csl-entry" role="listitem">'}
    entries = render_bibliography([item, MEMO | {"id": "other"}], fmt="html")
    assert len(entries) == 2 and all("<div" not in entry for entry in entries)
    assert any("&lt;div id=" in entry for entry in entries)


def test_parts_are_cut_at_the_letter_change_nearest_an_even_split(pandoc_runs, monkeypatch):
    """Forty entries under A and B, sixty under C and D: the cut after B (40/60), not the
    first one past half of the entries (after C: 90/10), since the larger part's run is
    the wall time."""
    monkeypatch.setattr(citations, "SPLIT_FROM", 5)
    monkeypatch.setattr(citations.os, "cpu_count", lambda: 2)
    counts = {"Adams": 30, "Brown": 10, "Clark": 50, "Davis": 10}
    items = [
        SAMPLE[5] | {"id": f"{family}{n}", "author": [{"family": family, "given": "A."}],
                     "title": f"Volume {n}"}
        for family, count in counts.items() for n in range(count)
    ]  # fmt: skip
    entries = render_bibliography(items, fmt="text")
    assert [count for mode, count in pandoc_runs if mode == "bibliography"] == [40, 60]
    assert entries == full_run(items)


def test_reports_whose_short_titles_agree_are_rendered_together():
    """Two reports without an author cited by the same short title are "2020a" and
    "2020b" in an author-date style, however the bibliography was built."""
    report = {"type": "report", "title-short": "Annual report", "publisher": "Ministry"}
    first = report | {
        "id": "a",
        "title": "Annual report: Agriculture",
        "issued": {"date-parts": [[2020]]},
    }
    second = report | {
        "id": "b",
        "title": "The ministry's report: Industry",
        "issued": {"date-parts": [[2020]]},
    }
    alone = full_run([first, second], "apa")
    assert "(2020a)" in alone[0] and "(2020b)" in alone[1]
    render_bibliography([first], style="apa", fmt="text")
    assert render_bibliography([first, second], style="apa", fmt="text") == alone


def test_each_format_style_and_locale_is_cached_apart(pandoc_runs):
    render_bibliography([MEMO], fmt="text")
    render_bibliography([MEMO], fmt="html")
    render_bibliography([MEMO], fmt="text", style="apa")
    render_bibliography([MEMO], fmt="text", locale="de")
    assert len(pandoc_runs) == 4


def test_notes_are_cached_per_passage(pandoc_runs):
    render_notes([Citation(MEMO, "3")])
    render_notes([Citation(MEMO, "3")])
    render_notes([Citation(MEMO, "3"), Citation(MEMO, "4")])
    assert [mode for mode, _ in pandoc_runs] == ["notes", "notes"]


# --- Styles, locales and bad input ----------------------------------------------------


def test_unknown_style_is_refused_with_the_accepted_ids():
    with pytest.raises(ValueError, match="chicago-notes-bibliography, .*apa") as error:
        render_bibliography([MEMO], style="chicago-99th")
    assert "'chicago-99th'" in str(error.value)


def test_style_ids_cannot_reach_outside_the_collection():
    with pytest.raises(ValueError, match="Unknown citation style"):
        citations.resolve_style("../../../etc/passwd")


def test_builtins_and_the_collection_are_available():
    styles = citations.available_styles()
    assert list(styles)[:5] == list(citations.BUILTIN_STYLES)
    assert styles["chicago-notes-bibliography"].startswith("Chicago Manual of Style 18th")
    assert styles["chicago-notes-bibliography-17th-edition"].startswith(
        "Chicago Manual of Style 17th"
    )
    assert styles["chicago-author-date"].startswith("Chicago Manual of Style 18th")
    assert len(styles) > 5000
    assert citations.style_title("apa") == "APA Style 7th edition"


def test_dependent_style_renders_with_its_parent():
    # accounting-forum is an alias of APA in the collection: our (newer) APA file is used.
    assert citations.resolve_style("accounting-forum") == citations.resolve_style("apa")
    entry = render_bibliography([MEMO], style="accounting-forum", fmt="text")
    assert entry == render_bibliography([MEMO], style="apa", fmt="text")


def test_any_collection_style_renders():
    entry = render_bibliography([BY_ID["book"]], style="chicago-author-date", fmt="text")[0]
    assert entry.startswith("Brown, Carol. 2007. An Illustrative History")


def test_locales_resolve_from_a_language_and_refuse_the_unknown():
    assert citations.resolve_locale("ru") == "ru-RU"
    assert citations.resolve_locale("en_GB") == "en-GB"
    with pytest.raises(ValueError, match="Accepted: af-ZA"):
        citations.resolve_locale("xx")


def test_unknown_format_and_locator_label_are_refused():
    with pytest.raises(ValueError, match="Accepted: html, text, markdown"):
        render_bibliography([MEMO], fmt="docx")
    with pytest.raises(ValueError, match="Accepted: act, .*folio"):
        render_notes([Citation(MEMO, "3", "leaf")])


def test_items_must_be_csl_objects():
    with pytest.raises(ValueError, match="Item 1 is not a CSL-JSON object"):
        render_bibliography([MEMO, "not an item"])


def test_markup_in_metadata_is_escaped_in_html():
    item = MEMO | {"id": "x", "title": "<script>alert(1)</script> & co"}
    entry = render_bibliography([item])[0]
    assert "<script>" not in entry
    assert "&lt;script&gt;" in entry


def test_empty_selection_renders_nothing(pandoc_runs):
    assert render_bibliography([]) == []
    assert render_notes([]) == []


# --- Sources --------------------------------------------------------------------------


@pytest.mark.django_db
def test_citation_for_a_source_uses_its_creators_and_archive(library):
    from citations.engine import bibliography_for_sources, citation_for_source
    from tests.factories import make_source

    source = make_source(
        library=library,
        title="Record of Conversation with Mao Zedong",
        creators=[
            {"role": "author", "family": "Roshchin", "given": "N. V."},
            {"role": "translator", "family": "Weathersby", "given": "Kathryn"},
        ],
        issued="1950-01-01?",
        archive="AVP RF",
        archive_location="f. 0100, op. 43, d. 10",
    )
    full, short = citation_for_source(source, locator="2", label="folio", fmt="text")
    assert full.startswith("N. V. Roshchin, “Record of Conversation with Mao Zedong,”")
    assert "trans. Kathryn Weathersby" in full and "[January 1, 1950?]" in full
    assert short == "Roshchin, “Record of Conversation with Mao Zedong,” fol. 2."
    [(same, entry)] = bibliography_for_sources([source], fmt="text")
    assert same == source and entry.startswith("Roshchin, N. V. “Record of Conversation")


def test_links_in_entries_are_never_javascript():
    items = [
        {"id": "x", "type": "webpage", "title": "Page", "URL": "javascript:alert(1)"},
        {"id": "y", "type": "book", "title": "Book", "DOI": "javascript:alert(2)"},
    ]
    for entry in render_bibliography(items):
        assert 'href="javascript:' not in entry


def test_numbered_style_follows_the_given_order_and_renumbers():
    style = "ieee"
    books = [BY_ID["book"], BY_ID["report"]]
    first = render_bibliography(books, style=style, fmt="text")
    again = render_bibliography(list(reversed(books)), style=style, fmt="text")
    assert first[0].startswith("[1]") and "Brown" in first[0]
    assert again[0].startswith("[1]") and "Black" in again[0]
