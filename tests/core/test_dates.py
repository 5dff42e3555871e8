"""EDTF as words (core.dates.edtf_in_words) and the display filters built on it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

from core.dates import bounds_in_words, edtf_in_words
from core.templatetags.display import language_display_name


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("1950?-01-01", "1 January 1950 (uncertain)"),
        ("1949-12-16", "16 December 1949"),
        ("1960-07?", "July 1960 (uncertain)"),
        ("1950~", "1950 (approximate)"),
        ("1950%", "1950 (uncertain, approximate)"),
        ("196X", "the 1960s"),
        ("19XX", "the 1900s"),
        ("1958/1962", "1958–1962"),
        ("1949-12-16/1950-02-17", "16 December 1949 – 17 February 1950"),
        ("../1950", "until 1950"),
        ("1950/..", "from 1950"),
        ("1950-21", "spring 1950"),
        ("2004-06-XX", "June 2004"),
        ("[1667,1668]", "1667 or 1668"),
        ("{1667,1668-12}", "1667 and December 1668"),
        ("[..1760-12-03]", "on or before 3 December 1760"),
    ],
)
def test_edtf_reads_as_words(value, words):
    assert edtf_in_words(value, "en") == words


@pytest.mark.parametrize("value", ["not a date", "1950-01-01T10:00:00", "-0100", "1950-13-45"])
def test_what_cannot_be_put_into_words_is_given_back_as_written(value):
    assert edtf_in_words(value, "en") == value


def test_words_follow_the_pages_language():
    assert edtf_in_words("1949-12-16", "ru") == "16 декабря 1949\u202fг."  # CLDR narrow space
    assert edtf_in_words("1949-12-16", "zh-hans") == "1949年12月16日"
    with translation.override("de"):
        assert edtf_in_words("1960-07") == "Juli 1960"


def test_bounds_read_as_a_day_a_month_a_year_or_a_range():
    day = dt.date(1950, 1, 1)
    assert bounds_in_words(day, day, "en") == "1 January 1950"
    assert bounds_in_words(day, dt.date(1950, 1, 31), "en") == "January 1950"
    assert bounds_in_words(day, dt.date(1950, 12, 31), "en") == "1950"
    assert bounds_in_words(dt.date(1958, 1, 1), dt.date(1962, 12, 31), "en") == "1958–1962"
    assert bounds_in_words(None, None, "en") == ""


def test_the_edtf_filter_keeps_the_edtf_in_a_tooltip_and_escapes_it():
    rendered = Template("{% load display %}{{ a|edtf }}|{{ b|edtf }}").render(
        Context({"a": "1950?-01-01", "b": '<b>"x"</b>'})
    )
    first, second = rendered.split("|")
    assert first == (
        '<time datetime="1950-01-01" title="EDTF: 1950?-01-01" data-edtf="1950?-01-01">'
        "1 January 1950 (uncertain)</time>"
    )
    assert "<b>" not in second and "&lt;b&gt;" in second


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("zh", "Chinese"),
        ("af-ZA", "Afrikaans (South Africa)"),
        ("ru", "Russian"),
        ("zh-Hans", "Chinese (Simplified)"),
        ("und", None),
        ("qq", None),
    ],
)
def test_language_tags_read_as_names(code, name):
    assert language_display_name(code, "en") == name


def test_the_language_filter_shows_the_name_with_the_tag_in_a_tooltip():
    rendered = Template("{% load display %}{{ a|language }} {{ b|language }}").render(
        Context({"a": "af-ZA", "b": "qq"})
    )
    assert rendered == '<span class="lang-name" title="af-ZA">Afrikaans (South Africa)</span> qq'
