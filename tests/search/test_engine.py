"""Search behaviour, the same on SQLite (FTS5) and PostgreSQL (tsvector): the suite runs
on both, and nothing here depends on which one answers."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.utils.datastructures import MultiValueDict

from annotations.claims.claims import EventLink
from annotations.models import Visibility
from core import batching
from search import engine as search_module
from search import index as search_index
from search import postgres as search_pg
from search.engine import result_source_ids, search
from search.models import SearchEntry
from search.query import parse_params
from tests.factories import (
    make_annotation,
    make_claim,
    make_event,
    make_evidence,
    make_library,
    make_source,
    make_text,
)

RUSSIAN = (
    "Товарищ Сталин принял Мао Цзэдуна в Кремле. Ждали СТАЛИНА долго.\n\n"
    "Ста́лин говорил о договоре. 毛泽东同志到达莫斯科。"
)
ENGLISH = (
    "Mao wanted a treaty of alliance that would give China face.\n\n"
    "The treaties were signed in 1950, after long talks in Moscow."
)


@pytest.fixture(autouse=True)
def _index_connected():
    search_index.connect()  # idempotent; SearchConfig.ready() connects it as well


@pytest.fixture(autouse=True)
def _small_id_blocks(monkeypatch):
    """PostgreSQL starts a ranking window at an id block of 16,384 ids, more than these
    tests make: with blocks of 4 ids their windows are placed, and read, by blocks."""
    monkeypatch.setattr(search_pg, "BLOCK", 4)


def run(user, **params):
    data = MultiValueDict({k: v if isinstance(v, list) else [v] for k, v in params.items()})
    return search(user, parse_params(data))


def found(result) -> set[tuple[str, int]]:
    return {(hit.kind, hit.claim_id or hit.annotation_id or hit.source_id) for hit in result.hits}


@pytest.fixture
def corpus(library, alice, bob):
    primary = make_source(
        library=library,
        title="Record of conversation with Mao Zedong",
        kind="primary",
        csl_type="manuscript",
        language="ru",
        archive="AVPRF",
        issued="1950-01-01",
        creators=[{"family": "Roshchin", "given": "N. V."}],
    )
    secondary = make_source(
        library=library,
        title="Face and something delicious",
        kind="secondary",
        csl_type="article-magazine",
        language="en",
        issued="2013",
        creators=[{"family": "Radchenko", "given": "Sergey"}],
    )
    ru = make_text(source=primary, text=RUSSIAN, imported_by=alice)
    en = make_text(source=secondary, text=ENGLISH, imported_by=alice)
    waiting = make_annotation(
        text=ru,
        creator=alice,
        quote="Ждали СТАЛИНА долго",
        tags=["Theme:Face", "person:Mao Zedong"],
        comment="Stalin makes him wait.",
    )
    alliance = make_annotation(
        text=en,
        creator=bob,
        quote="treaty of alliance",
        tags=["Treaty of 1950: drafts"],
        comment="<script>alert(1)</script> about face",
    )
    private = make_annotation(
        text=en,
        creator=bob,
        quote="long talks",
        comment="my secret treaty note",
        visibility=Visibility.PRIVATE,
    )
    visit = make_event(
        library=library, creator=alice, name="Mao's visit to Moscow", date="1949-12-16/1950-02-17"
    )
    treaty = make_event(
        library=library, creator=alice, name="Treaty signed", date="1950-02-14", parent=visit
    )
    split = make_event(library=library, creator=alice, name="The split", date="1960")
    kept = make_claim(
        library=library,
        creator=alice,
        statement="Stalin kept Mao waiting for days.",
        tags=["theme:face"],
        status="disputed",
        events=[EventLink(visit)],
    )
    make_evidence(claim=kept, annotation=waiting, creator=alice, stance="contradicts")
    signed = make_claim(
        library=library,
        creator=bob,
        statement="The treaty was signed in February.",
        tags=["person:Zhou Enlai"],
        events=[EventLink(treaty)],
    )
    make_evidence(claim=signed, annotation=alliance, creator=bob)
    later = make_claim(
        library=library, creator=alice, statement="The split came later.", events=[EventLink(split)]
    )
    return {
        "primary": primary,
        "secondary": secondary,
        "ru": ru,
        "en": en,
        "waiting": waiting,
        "alliance": alliance,
        "private": private,
        "visit": visit,
        "treaty": treaty,
        "split": split,
        "kept": kept,
        "signed": signed,
        "later": later,
    }


# --- words -------------------------------------------------------------------------------


def test_a_word_finds_annotations_claims_and_passages(corpus, alice):
    result = run(alice, q="treaty")
    assert ("annotation", corpus["alliance"].pk) in found(result)
    assert ("claim", corpus["signed"].pk) in found(result)
    assert ("passage", corpus["secondary"].pk) in found(result)
    assert ("claim", corpus["later"].pk) not in found(result)


def test_stems_match_other_forms_of_a_word(corpus, alice):
    assert ("annotation", corpus["alliance"].pk) in found(run(alice, q="treaties"))
    assert ("claim", corpus["kept"].pk) in found(run(alice, q="waits"))


def test_a_phrase_needs_its_words_side_by_side(corpus, alice):
    assert ("annotation", corpus["alliance"].pk) in found(run(alice, q='"treaty of alliance"'))
    assert not run(alice, q='"alliance of treaty"').hits


def test_a_prefix_matches_the_start_of_words(corpus, alice):
    assert ("annotation", corpus["alliance"].pk) in found(run(alice, q="allia*"))
    assert not run(alice, q="alliab*").hits


def test_excluded_words_remove_results(corpus, alice):
    kinds = found(run(alice, q="treaty -alliance"))
    assert ("annotation", corpus["alliance"].pk) not in kinds
    assert ("claim", corpus["signed"].pk) in kinds


def test_an_exclusion_alone_keeps_everything_else(corpus, alice):
    keys = found(run(alice, q="-treaty", **{"in": "claim"}))
    assert keys == {("claim", corpus["kept"].pk), ("claim", corpus["later"].pk)}


def test_or_matches_either_word(corpus, alice):
    keys = found(run(alice, q="split OR waiting", **{"in": "claim"}))
    assert keys == {("claim", corpus["kept"].pk), ("claim", corpus["later"].pk)}


@pytest.mark.parametrize("typed", ["Сталин", "сталина", "СТАЛИН", "Ста́лин"])
def test_russian_matches_any_case_form_and_stress_mark(corpus, alice, typed):
    assert ("annotation", corpus["waiting"].pk) in found(run(alice, q=typed))


@pytest.mark.parametrize("typed", ["毛泽东", "泽东", "毛", "莫斯科", "东同志"])
def test_chinese_matches_any_substring(corpus, alice, typed):
    assert ("passage", corpus["primary"].pk) in found(run(alice, q=typed, **{"in": "passage"}))


def test_chinese_that_is_not_there_finds_nothing(corpus, alice):
    assert not run(alice, q="北京").hits


def test_a_fuzzy_word_finds_near_spellings(corpus, alice):
    assert ("claim", corpus["kept"].pk) in found(run(alice, q="Stalni~", **{"in": "claim"}))


def test_a_misspelling_with_no_results_suggests_a_known_word(corpus, alice):
    result = run(alice, q="aliance")
    assert not result.hits
    assert "q=alliance" in result.suggestion


# --- filters -----------------------------------------------------------------------------


@pytest.mark.parametrize("tag", ["theme:face", "THEME:FACE", "Theme : Face"])
def test_tags_match_whatever_the_case_and_spacing(corpus, alice, tag):
    keys = found(run(alice, tag=tag))
    assert keys == {("annotation", corpus["waiting"].pk), ("claim", corpus["kept"].pk)}


def test_multi_word_and_punctuated_tags_match(corpus, alice):
    assert found(run(alice, tag="person:mao zedong")) == {("annotation", corpus["waiting"].pk)}
    assert found(run(alice, tag="treaty of 1950: DRAFTS")) == {
        ("annotation", corpus["alliance"].pk)
    }


def test_all_of_several_tags_and_any_of_them(corpus, alice):
    both = run(alice, tag=["theme:face", "person:Mao Zedong"])
    assert found(both) == {("annotation", corpus["waiting"].pk)}
    either = run(alice, any_tag=["person:Mao Zedong", "person:Zhou Enlai"])
    assert found(either) == {("annotation", corpus["waiting"].pk), ("claim", corpus["signed"].pk)}


def test_a_namespace_matches_every_tag_in_it(corpus, alice):
    keys = found(run(alice, tag="person:*"))
    assert keys == {("annotation", corpus["waiting"].pk), ("claim", corpus["signed"].pk)}


def test_an_unknown_tag_finds_nothing(corpus, alice):
    assert not run(alice, tag="theme:nothing").hits
    assert not run(alice, q="treaty", any_tag="nope").hits


def test_an_event_filter_includes_the_events_inside_it(corpus, alice):
    keys = found(run(alice, event=str(corpus["visit"].pk), **{"in": "claim"}))
    assert keys == {("claim", corpus["kept"].pk), ("claim", corpus["signed"].pk)}
    only_treaty = run(alice, event=str(corpus["treaty"].pk), **{"in": "claim"})
    assert found(only_treaty) == {("claim", corpus["signed"].pk)}


def test_annotations_are_found_through_the_events_of_their_claims(corpus, alice):
    keys = found(run(alice, event=str(corpus["treaty"].pk), **{"in": "annotation"}))
    assert keys == {("annotation", corpus["alliance"].pk)}


def test_event_dates_overlapping_a_range(corpus, alice):
    in_1950 = found(run(alice, **{"from": "1950-02", "to": "1950-02", "in": "claim"}))
    assert in_1950 == {("claim", corpus["kept"].pk), ("claim", corpus["signed"].pk)}
    sixties = found(run(alice, **{"from": "1959", "in": "claim"}))
    assert sixties == {("claim", corpus["later"].pk)}


def test_source_kind_type_creator_archive_and_language(corpus, alice):
    primary = found(run(alice, source_kind="primary", **{"in": "annotation,claim"}))
    assert primary == {("annotation", corpus["waiting"].pk), ("claim", corpus["kept"].pk)}
    for params in (
        {"type": "manuscript"},
        {"creator": "roshchin"},
        {"archive": "avprf"},
        {"language": "ru-RU"},
    ):
        assert ("annotation", corpus["waiting"].pk) in found(run(alice, **params))
        assert ("annotation", corpus["alliance"].pk) not in found(run(alice, **params))


def test_claim_status_annotator_and_library(corpus, alice, bob):
    assert found(run(alice, status="disputed")) == {("claim", corpus["kept"].pk)}
    by_bob = found(run(alice, annotator="bob", **{"in": "annotation"}))
    assert by_bob == {("annotation", corpus["alliance"].pk)}
    other = make_library(owner=alice, name="Other")
    assert not run(alice, library=other.slug, q="treaty").hits
    assert run(alice, library=corpus["primary"].library.slug, q="treaty").hits


def test_source_dates_filter_sources_issued_in_a_range(corpus, alice):
    keys = found(run(alice, issued="1950", **{"in": "source"}))
    assert keys == {("source", corpus["primary"].pk)}


def test_the_example_question_primary_sources_on_face_in_1950(corpus, alice):
    """What do my sources say about the 1950 treaty, tagged theme:face, primary only?"""
    result = run(alice, tag="theme:face", source_kind="primary", **{"from": "1950", "to": "1950"})
    assert found(result) == {("claim", corpus["kept"].pk), ("annotation", corpus["waiting"].pk)}
    claim = next(hit for hit in result.hits if hit.kind == "claim")
    assert [(q.stance, q.source_kind) for q in claim.evidence] == [("contradicts", "primary")]
    assert "СТАЛИНА" in claim.evidence[0].exact


# --- who sees what -----------------------------------------------------------------------


def test_an_outsider_finds_nothing(corpus, mallory):
    result = run(mallory, q="treaty")
    assert not result.hits and result.total == 0


def test_private_annotations_are_found_only_by_their_creator(corpus, alice, bob):
    assert ("annotation", corpus["private"].pk) in found(run(bob, q="secret"))
    assert ("annotation", corpus["private"].pk) not in found(run(alice, q="secret"))


def test_a_public_library_is_searchable_anonymously(corpus, alice):
    from django.contrib.auth.models import AnonymousUser

    assert not run(AnonymousUser(), q="treaty").hits
    library = corpus["primary"].library
    library.is_public = True
    library.save()
    result = run(AnonymousUser(), q="treaty")
    assert result.hits
    assert ("annotation", corpus["private"].pk) not in found(run(AnonymousUser(), q="secret"))


# --- order, facets, snippets -------------------------------------------------------------


def test_relevance_puts_more_matches_first(library, alice, source):
    text = make_text(source=source, text="face face face. face once. nothing.", imported_by=alice)
    many = make_annotation(text=text, creator=alice, quote="face face face")
    once = make_annotation(text=text, creator=alice, quote="face once")
    hits = run(alice, q="face", **{"in": "annotation"}).hits
    assert [hit.annotation_id for hit in hits] == [many.pk, once.pk]


def test_sorting_by_date_both_ways_keeps_undated_last(corpus, alice, library):
    undated = make_source(library=library, title="Undated note", issued="")
    result = run(alice, sort="date", **{"in": "source"})
    assert [h.source_id for h in result.hits] == [
        corpus["primary"].pk,
        corpus["secondary"].pk,
        undated.pk,
    ]
    result = run(alice, sort="-date", **{"in": "source"})
    assert [h.source_id for h in result.hits] == [
        corpus["secondary"].pk,
        corpus["primary"].pk,
        undated.pk,
    ]


def test_facets_count_tags_events_kinds_and_years(corpus, alice):
    facets = run(alice, q="treaty OR stalin").facets
    tags = {f.label.casefold(): f.count for f in facets["tags"]}
    assert tags["theme:face"] == 1 + 1  # the annotation and the claim
    assert {f.label: f.count for f in facets["source_kinds"]}["Primary"] >= 2
    assert any(f.label.startswith("Treaty signed") for f in facets["events"])
    assert {f.value for f in facets["years"]} >= {"1949", "1950", "2013"}


def test_snippets_mark_matches_and_escape_everything_else(corpus, alice):
    hit = next(
        h
        for h in run(alice, q="face", **{"in": "annotation"}).hits
        if h.annotation_id == corpus["alliance"].pk
    )
    assert "<script>" not in hit.note
    assert "&lt;script&gt;" in hit.note
    assert "<mark>face</mark>" in hit.note


def test_snippets_mark_cyrillic_and_chinese(corpus, alice):
    hits = run(alice, q="сталин 毛泽东", **{"in": "passage"}).hits
    assert "<mark>Сталин</mark>" in hits[0].snippet
    assert "<mark>毛泽东</mark>" in hits[0].snippet


# --- pages -------------------------------------------------------------------------------


@pytest.fixture
def many(library, alice, source):
    text = make_text(
        source=source, text=" ".join(f"treaty{n} face" for n in range(30)), imported_by=alice
    )
    return [
        make_annotation(text=text, creator=alice, quote=f"treaty{n} face", comment=f"c {n}")
        for n in range(30)
    ]


def all_pages(user, **params) -> list[int]:
    seen, cursor = [], ""
    for _ in range(50):
        result = run(user, **params, **({"cursor": cursor} if cursor else {}))
        seen += [hit.id for hit in result.hits]
        cursor = result.next_cursor
        if not cursor:
            return seen
    raise AssertionError("paging did not end")


@pytest.mark.parametrize("sort", ["relevance", "date", "-date"])
def test_pages_cover_every_result_once(many, alice, sort):
    seen = all_pages(alice, q="face", limit="7", sort=sort, **{"in": "annotation"})
    assert len(seen) == len(set(seen)) == 30


def test_paging_goes_past_the_ranking_window_without_a_cliff(many, alice, monkeypatch):
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 12)
    monkeypatch.setattr(search_module.backend(), "estimate", lambda sql, params: None)
    first = run(alice, q="face", limit="4", **{"in": "annotation"})
    assert first.total_label == "more than 12" and not first.total_exact
    seen = all_pages(alice, q="face", limit="4", **{"in": "annotation"})
    assert len(seen) == len(set(seen)) == 30


def test_paging_with_an_estimated_window_covers_everything(many, alice, monkeypatch):
    """Where the database estimates (PostgreSQL), the window is placed from the estimate."""
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    monkeypatch.setattr(search_module, "READ_ALL", 20)
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 12)
    monkeypatch.setattr(search_module.backend(), "estimate", lambda sql, params: 25)
    first = run(alice, q="face", limit="4", **{"in": "annotation"})
    assert first.total_label == "about 25"
    seen = all_pages(alice, q="face", limit="4", **{"in": "annotation"})
    assert len(seen) == len(set(seen)) == 30


def test_a_search_expected_to_outgrow_the_window_is_counted_from_the_estimate(
    many, alice, monkeypatch
):
    """Counting exactly would read every match; beyond the window the estimate stands."""
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    monkeypatch.setattr(search_module, "READ_ALL", 20)
    monkeypatch.setattr(search_module, "COUNT_LIMIT", 100)
    monkeypatch.setattr(search_module.backend(), "estimate", lambda sql, params: 25)
    first = run(alice, q="face", limit="4", **{"in": "annotation"})
    assert (first.total, first.total_exact, first.total_label) == (25, False, "about 25")
    later = run(alice, q="face", limit="4", cursor=first.next_cursor, **{"in": "annotation"})
    assert later.total_label == "about 25"


@pytest.mark.parametrize("estimate", [3, 25])
def test_a_search_expected_to_match_few_is_read_whole_and_counted_exactly(
    many, alice, monkeypatch, estimate
):
    """Up to READ_ALL expected matches there is no window: all are ranked and counted."""
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    monkeypatch.setattr(search_module, "READ_ALL", 40)
    monkeypatch.setattr(search_module.backend(), "estimate", lambda sql, params: estimate)
    first = run(alice, q="face", limit="4", **{"in": "annotation"})
    assert (first.total, first.total_exact, first.total_label) == (30, True, "30")
    assert first.facets_exact
    assert len(all_pages(alice, q="face", limit="4", **{"in": "annotation"})) == 30


def test_a_window_placed_among_newer_rows_that_do_not_match_reaches_back(
    many, alice, source, monkeypatch
):
    """The estimate places the window as if matches were spread evenly; when the newest
    rows hold none, the window reaches further back, so the first page is still ranked."""
    for n in range(60):
        make_annotation(text=many[0].text, creator=alice, quote=f"treaty{n % 30}", comment="")
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    monkeypatch.setattr(search_module, "READ_ALL", 20)
    monkeypatch.setattr(search_module.backend(), "estimate", lambda sql, params: 100)
    first = run(alice, q="face", limit="4", **{"in": "annotation"})
    assert len(first.hits) == 4 and all(hit.rank > 0 for hit in first.hits)
    seen = all_pages(alice, q="face", limit="4", **{"in": "annotation"})
    assert len(seen) == len(set(seen)) == 30


def _planned(user, typed: str) -> tuple:
    found_ = search_module.plan(
        user, parse_params(MultiValueDict({"q": [typed], "in": ["annotation"]}))
    )
    return found_, search_module.backend().fragment(found_)


only_estimating = pytest.mark.skipif(
    search_module.backend().__name__ != "search.postgres", reason="PostgreSQL's estimates only"
)


@only_estimating
def test_a_window_is_sized_by_what_its_newest_blocks_hold(many, alice, monkeypatch):
    """The planner's estimate places a window as if matches were spread evenly; where they
    crowd the newest rows (here all 30 are among them), the newest blocks are read first and
    the window reaches back only as far as their density says RANK_WINDOW takes."""
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    threshold = SearchEntry.objects.order_by("pk").values_list("pk", flat=True).first()
    as_placed = search_module.read_window(*_planned(alice, "face"), threshold, ranked=True)
    start, window = search_module.sized_window(*_planned(alice, "face"), threshold, 10, ranked=True)
    assert len(as_placed) == 30
    assert 10 <= len(window) <= 10 + 2 * search_pg.BLOCK and start > threshold
    in_range = search_module.read_window(*_planned(alice, "face"), start, ranked=True)
    assert sorted(window) == sorted(in_range)  # the two parts are the window, once each
    monkeypatch.setattr(search_module, "READ_ALL", 5)
    monkeypatch.setattr(search_module.backend(), "estimate", lambda sql, params: 10)
    seen = all_pages(alice, q="face", limit="4", **{"in": "annotation"})
    assert len(seen) == len(set(seen)) == 30


@only_estimating
def test_a_window_whose_newest_blocks_hold_few_reaches_back_at_most_twice_as_far(
    many, alice, monkeypatch
):
    """One match among many newer rows says matches are rare: the window then reaches
    further back than the estimate placed it, but no more than twice as far."""
    for n in range(40):
        make_annotation(text=many[0].text, creator=alice, quote=f"treaty{n % 30}", comment="")
    make_annotation(text=many[0].text, creator=alice, quote="treaty1 face", comment="")
    monkeypatch.setattr(search_module, "RANK_WINDOW", 10)
    high = SearchEntry.objects.order_by("-pk").values_list("pk", flat=True).first()
    threshold = high - 20
    start, window = search_module.sized_window(*_planned(alice, "face"), threshold, 50, ranked=True)
    assert high - 2 * 20 - search_pg.BLOCK <= start < threshold
    in_range = search_module.read_window(*_planned(alice, "face"), start, ranked=True)
    assert sorted(window) == sorted(in_range) and window


def test_the_first_page_reads_only_the_shown_rows_whole(many, alice):
    """Ranking, counting and facets read ids, ranks and facet tokens; the display text is
    read for the page's rows alone, by id."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        result = run(alice, q="face", limit="5", **{"in": "annotation"})
    assert len(result.hits) == 5 and result.total == 30
    reading_text = [q["sql"] for q in queries if "e.body" in q["sql"]]
    assert len(reading_text) == 1
    assert re.search(r"FROM annotations_searchentry e WHERE e\.id IN \([\d, ]+\)$", reading_text[0])


def test_facets_counted_from_the_window_equal_those_counted_in_sql(corpus, alice):
    query = parse_params(MultiValueDict({"q": ["treaty OR stalin OR mao"]}))
    found_ = search_module.plan(alice, query)
    fragment = search_module.backend().fragment(found_)
    window = search_module.read_window(found_, fragment, 0, ranked=True)
    from_window = search_module._window_tokens(window)
    in_sql = search_module.facet_tokens(found_, fragment, 0)
    assert from_window == in_sql and from_window[0]
    names = search_module.Names.read(found_, [], from_window[0])
    assert search_module._facets(*from_window, names)["tags"]


@pytest.mark.parametrize(
    ("stored", "tokens"),
    [
        ('["kprimary", "t12", "a3f09c", "c3e5"]', {"kprimary": 1, "t12": 1}),
        ('["e7","s3","t7"]', {"e7": 1, "t7": 1}),
        ("[]", {}),
        (["t1", "e2", "y4b"], {"t1": 1, "e2": 1}),
    ],
)
def test_facet_arrays_are_counted_as_json_parses_them(stored, tokens):
    """Tags, events and source kinds are counted; the other tokens (archive, creator,
    type…) are not facets, even where their hex begins with one of those letters."""
    counted, years = search_module._window_tokens([(1, 0.5, stored, 1950), (2, 0.5, "[]", None)])
    assert counted == tokens and years == {1950: 1}


def test_pages_stay_stable_while_results_are_added(many, alice, source):
    first = run(alice, q="face", limit="10", sort="-date", **{"in": "annotation"})
    text = source.current_text
    newcomer = make_annotation(text=text, creator=alice, quote="treaty29 face", comment="new face")
    rest, cursor = [], first.next_cursor
    while cursor:
        page = run(alice, q="face", limit="10", sort="-date", cursor=cursor, **{"in": "annotation"})
        rest += [hit.annotation_id for hit in page.hits]
        cursor = page.next_cursor
    seen = [hit.annotation_id for hit in first.hits] + rest
    assert len(seen) == len(set(seen))
    assert {a.pk for a in many} <= set(seen)
    assert newcomer.pk not in rest[:0]  # never a reason to fail: added rows may or may not show


def test_a_tampered_cursor_is_refused(many, alice):
    first = run(alice, q="face", limit="5")
    with pytest.raises(ValidationError) as error:
        run(alice, q="face", limit="5", cursor=first.next_cursor[:-3] + "xyz")
    assert "cursor" in error.value.message_dict


def test_a_cursor_from_another_search_is_refused(many, alice):
    first = run(alice, q="face", limit="5")
    with pytest.raises(ValidationError) as error:
        run(alice, q="treaty0", limit="5", cursor=first.next_cursor)
    assert "cursor" in error.value.message_dict


# --- the index follows the data ----------------------------------------------------------


def test_editing_an_annotation_reindexes_it(corpus, alice):
    annotation = corpus["waiting"]
    annotation.apply_changes(
        {"comment": "Molotov was there", "tags": ["place:Kremlin"]}, user=alice
    )
    assert ("annotation", annotation.pk) in found(run(alice, q="molotov"))
    assert ("annotation", annotation.pk) in found(run(alice, tag="place:kremlin"))
    assert ("annotation", annotation.pk) not in found(run(alice, tag="theme:face"))


def test_deleting_things_removes_them_from_the_index(corpus, alice):
    corpus["alliance"].delete()
    assert ("annotation", corpus["alliance"].pk) not in found(run(alice, q="alliance"))
    secondary = corpus["secondary"].pk
    corpus["secondary"].delete()
    assert not SearchEntry.objects.filter(source_id=secondary).exists()
    corpus["kept"].delete()
    assert not run(alice, q="waiting", **{"in": "claim"}).hits


def test_renaming_and_merging_tags_reindexes_what_they_tag(corpus, alice):
    from annotations.models import Tag
    from annotations.tags import merge_tags, rename_tag

    face = Tag.objects.get(name_key="theme:face")
    rename_tag(face, "motif:face")
    assert found(run(alice, tag="motif:*")) == {
        ("annotation", corpus["waiting"].pk),
        ("claim", corpus["kept"].pk),
    }
    drafts = Tag.objects.get(name_key="treaty of 1950: drafts")
    merge_tags(drafts, Tag.objects.get(name_key="motif:face"))
    assert ("annotation", corpus["alliance"].pk) in found(run(alice, tag="motif:face"))


def test_a_new_revision_replaces_the_passages(corpus, alice):
    make_text(
        source=corpus["secondary"], text="A corrected text about Khrushchev.", imported_by=alice
    )
    assert ("passage", corpus["secondary"].pk) in found(run(alice, q="khrushchev"))
    assert ("passage", corpus["secondary"].pk) not in found(run(alice, q="alliance"))


def test_changing_a_source_changes_what_its_entries_match(corpus, alice):
    source = corpus["secondary"]
    source.kind = "primary"
    source.save()
    assert ("annotation", corpus["alliance"].pk) in found(run(alice, source_kind="primary"))
    assert ("claim", corpus["signed"].pk) in found(run(alice, source_kind="primary"))


def test_linking_a_claim_to_an_event_reindexes_it(corpus, alice):
    from annotations.claims.claims import link_event

    link_event(corpus["later"], corpus["treaty"], relation="about")
    assert ("claim", corpus["later"].pk) in found(run(alice, event=str(corpus["treaty"].pk)))


def test_a_highlight_made_evidence_in_its_own_indexing_block_carries_the_claims_events(
    corpus, alice
):
    """A new annotation is indexed without looking up events (it cannot have any), unless
    it became evidence in the same block: then its claim's events are its facets too."""
    from django.db import transaction

    from annotations.claims.claims import Selection, add_evidence, create_claim, highlight

    with transaction.atomic(), batching.batch():
        note = highlight(
            Selection(text=corpus["en"], start=0, end=6, exact=corpus["en"].text[:6]),
            creator=alice,
        )
        claim = create_claim(
            library=corpus["en"].source.library,
            creator=alice,
            statement="Signed then.",
            events=[EventLink(corpus["treaty"])],
        )
        add_evidence(claim, note, creator=alice)
    assert ("annotation", note.pk) in found(run(alice, event=str(corpus["treaty"].pk)))


def test_the_rebuild_command_restores_the_index(corpus, alice):
    from io import StringIO

    from django.core.management import call_command

    before = set(SearchEntry.objects.values_list("key", flat=True))
    SearchEntry.objects.all().delete()
    out = StringIO()
    call_command("rebuild_search_index", stdout=out, stderr=StringIO())
    assert set(SearchEntry.objects.values_list("key", flat=True)) == before
    assert "entries" in out.getvalue()
    assert ("annotation", corpus["waiting"].pk) in found(run(alice, q="сталин"))


# --- handing results to citation export --------------------------------------------------


def test_result_source_ids_include_the_sources_of_claims(corpus, alice, mallory):
    query = parse_params(MultiValueDict({"q": ["waiting"], "in": ["claim"]}))
    assert result_source_ids(alice, query) == [corpus["primary"].pk]
    assert result_source_ids(mallory, query) == []


# --- snippets of long texts -----------------------------------------------------------------


def highlighter(typed: str) -> search_module.Highlighter:
    return search_module.Highlighter(parse_params(MultiValueDict({"q": [typed]})).text)


def snippet_marking_everything(marker: search_module.Highlighter, text: str) -> str:
    """The snippet as it is defined: every match found in the whole text, then cut."""
    spans, size = marker.spans(text), search_module.SNIPPET_CHARS
    start = 0
    if len(text) > size and spans:
        start = max(0, spans[0][0] - size // 3)
        start = text.rfind(" ", 0, start) + 1 if start else 0
    end = min(len(text), start + size)
    if end < len(text):
        cut = text.rfind(" ", start + size // 2, end)
        end = cut if cut > 0 else end
    return search_module._marked(text, start, end, spans)


LONG = " ".join([ENGLISH, "filler words " * 40, RUSSIAN, "mutual security " * 3, ENGLISH] * 4)


@pytest.mark.parametrize(
    "typed",
    ["treaty", "treat*", "mao stalin", '"mutual security"', "毛泽东", "Сталина", "absent", "sign"],
)
def test_a_long_texts_snippet_is_the_one_marking_the_whole_text_gives(typed):
    marker = highlighter(typed)
    for text in [LONG, LONG[500:], LONG[:300], "x" * 900 + " treaty"]:
        assert marker.snippet(text) == snippet_marking_everything(marker, text)


@pytest.fixture
def tokens_read(monkeypatch) -> list[int]:
    """Where each token the highlighter reads starts."""
    read: list[int] = []
    real_tokens = search_module.tokens

    def spy(text, start=0):
        for token in real_tokens(text, start):
            read.append(token.start)
            yield token

    monkeypatch.setattr(search_module, "tokens", spy)
    return read


def test_a_long_text_is_read_only_up_to_its_snippet(tokens_read):
    read = tokens_read
    snippet = highlighter("treaty").snippet("A treaty. " + "filler " * 2000)
    assert "<mark>treaty</mark>" in snippet
    assert max(read) < 2 * search_module.SNIPPET_CHARS


def test_a_long_text_is_read_once_up_to_its_first_match(tokens_read):
    """The words before the snippet are read to find the first match, not again to mark."""
    read = tokens_read
    snippet = highlighter("treaty").snippet("filler " * 1000 + "the treaty " + "filler " * 100)
    assert "<mark>treaty</mark>" in snippet
    assert len(read) < 1000 + search_module.SNIPPET_CHARS // 4
