"""Names in another script: what a name is also found by ("Сталин" ↔ "Stalin",
"Мао Цзэдун" ↔ "Mao Zedong" ↔ "毛泽东").

The search index holds the Latin forms of the names it is given (creators, tags, events)
beside the names themselves, and a query word in another script also looks for its Latin
form (`search.query`), so a name typed in either script meets a name written in either; the
`creator=` filter looks for every spelling of the name it is given (`search.engine`), and
tag autocomplete matches a tag's words and their Latin forms (`annotations.tags`).

Latin forms come from `anyascii` (Russian → "Stalin", "Khrushchev"; Chinese characters →
pinyin syllables). Chinese names written in Cyrillic follow the Palladius system
(Цзэдун, Чжоу Эньлай), which anyascii reads letter by letter ("Tszedun"): a Cyrillic word
that splits wholly into Palladius syllables is also given its pinyin ("zedong"). The
syllable table is built from the pinyin syllables and Palladius's rules for initials and
finals (as tabulated in Wikipedia's "Cyrillization of Chinese", CC BY-SA).
"""

from __future__ import annotations

import functools
import re

from anyascii import anyascii

from core.text import fold, is_cjk, tokens

_CYRILLIC = re.compile(r"[\u0400-\u04ff]")

# Pinyin syllables by initial ("" for none; "v" is ü). Toneless; "lv" folds to "lu" below.
_FINALS_BY_INITIAL = {
    "b": "a o ai ei ao an en ang eng i ie iao ian in ing u",
    "p": "a o ai ei ao ou an en ang eng i ie iao ian in ing u",
    "m": "a o e ai ei ao ou an en ang eng i ie iao iu ian in ing u",
    "f": "a o ei ou an en ang eng u",
    "d": "a e ai ei ao ou an en ang eng ong i ia ie iao iu ian ing u uo ui uan un",
    "t": "a e ai ao ou an ang eng ong i ie iao ian ing u uo ui uan un",
    "n": "a e ai ei ao ou an en ang eng ong i ie iao iu ian in iang ing u uo uan v ve",
    "l": "a e ai ei ao ou an ang eng ong i ia ie iao iu ian in iang ing u uo uan un v ve",
    "g": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "k": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "h": "a e ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "j": "i ia ie iao iu ian in iang ing iong u ue uan un",
    "q": "i ia ie iao iu ian in iang ing iong u ue uan un",
    "x": "i ia ie iao iu ian in iang ing iong u ue uan un",
    "zh": "a e i ai ei ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "ch": "a e i ai ao ou an en ang eng ong u ua uo uai ui uan un uang",
    "sh": "a e i ai ei ao ou an en ang eng u ua uo uai ui uan un uang",
    "r": "e i ao ou an en ang eng ong u ua uo ui uan un",
    "z": "a e i ai ei ao ou an en ang eng ong u uo ui uan un",
    "c": "a e i ai ao ou an en ang eng ong u uo ui uan un",
    "s": "a e i ai ao ou an en ang eng ong u uo ui uan un",
}
_ZERO_INITIAL = {
    "a": "а", "o": "о", "e": "э", "ai": "ай", "ei": "эй", "ao": "ао", "ou": "оу", "an": "ань",
    "en": "энь", "ang": "ан", "eng": "эн", "er": "эр", "yi": "и", "ya": "я", "ye": "е",
    "yao": "яо", "you": "ю", "yan": "янь", "yin": "инь", "yang": "ян", "ying": "ин",
    "yong": "юн", "wu": "у", "wa": "ва", "wo": "во", "wai": "вай", "wei": "вэй", "wan": "вань",
    "wen": "вэнь", "wang": "ван", "weng": "вэн", "yu": "юй", "yue": "юэ", "yuan": "юань",
    "yun": "юнь",
}  # fmt: skip
_INITIALS = {
    "b": "б", "p": "п", "m": "м", "f": "ф", "d": "д", "t": "т", "n": "н", "l": "л", "g": "г",
    "k": "к", "h": "х", "j": "цз", "q": "ц", "x": "с", "zh": "чж", "ch": "ч", "sh": "ш",
    "r": "ж", "z": "цз", "c": "ц", "s": "с",
}  # fmt: skip
_FINALS = {
    "a": "а", "o": "о", "e": "э", "i": "и", "ai": "ай", "ei": "эй", "ao": "ао", "ou": "оу",
    "an": "ань", "en": "энь", "ang": "ан", "eng": "эн", "ong": "ун", "ia": "я", "ie": "е",
    "iao": "яо", "iu": "ю", "ian": "янь", "in": "инь", "iang": "ян", "ing": "ин",
    "iong": "юн", "u": "у", "ua": "уа", "uo": "о", "uai": "уай", "ui": "уй", "uan": "уань",
    "un": "унь", "uang": "уан", "v": "юй", "ve": "юэ",
}  # fmt: skip
# After j, q and x, "u" is ü; after z, c and s, "i" is the buzzed ы; "hui" is хуэй.
_AFTER_JQX = {"u": "юй", "ue": "юэ", "uan": "юань", "un": "юнь"}


def _palladius(initial: str, final: str) -> str:
    if initial in ("j", "q", "x") and final in _AFTER_JQX:
        return _INITIALS[initial] + _AFTER_JQX[final]
    cyrillic = _FINALS[final]
    if initial in ("z", "c", "s") and final == "i":
        cyrillic = "ы"
    elif initial == "h" and final == "ui":
        cyrillic = "уэй"
    return _INITIALS[initial] + cyrillic


@functools.cache
def palladius_syllables() -> dict[str, str]:
    """Palladius syllable (folded) → pinyin (toneless, ü as u)."""
    table = {fold(cyrillic): latin for latin, cyrillic in _ZERO_INITIAL.items()}
    for initial, finals in _FINALS_BY_INITIAL.items():
        for final in finals.split():
            table[fold(_palladius(initial, final))] = (initial + final).replace("v", "u")
    return table  # keys folded as the index folds words: "й" is "и", "ё" is "е"


_LONGEST_SYLLABLE = 6


@functools.lru_cache(maxsize=8_192)
def pinyin_of_palladius(word: str) -> str:
    """The pinyin of a Cyrillic word that splits wholly into Palladius syllables
    ("цзэдун" → "zedong", "эньлай" → "enlai"), else "" ("сталин")."""
    table = palladius_syllables()
    word = fold(word).replace("ъ", "")
    # best[i]: the fewest syllables that spell word[:i], and their pinyin.
    best: list[tuple[int, str] | None] = [(0, "")] + [None] * len(word)
    for end in range(1, len(word) + 1):
        for start in range(max(0, end - _LONGEST_SYLLABLE), end):
            latin = table.get(word[start:end])
            before = best[start]
            if latin and before and (best[end] is None or before[0] + 1 < best[end][0]):
                best[end] = (before[0] + 1, before[1] + latin)
    found = best[-1]
    return found[1] if found and word else ""


def _cjk_forms(word: str) -> list[str]:
    """A name in Chinese characters as it is romanised: family syllable, then the given
    name in one word ("毛泽东" → "Mao Zedong"), and all in one word ("泽东" → "Zedong", for
    a given name alone); anyascii capitalises each syllable."""
    syllables = re.findall(r"[A-Z][a-z]*", anyascii(word))
    if len(syllables) < 2:
        return ["".join(syllables)]
    return [f"{syllables[0]} {''.join(syllables[1:])}", "".join(syllables)]


def latin_forms(word: str) -> list[str]:
    """The Latin forms a word in another script is also found by, folded; [] for a word
    already in Latin letters (or one with none)."""
    return [] if word.isascii() else list(_latin_forms(word))


@functools.lru_cache(maxsize=65_536)  # names recur: a library's tags and creators repeat them
def _latin_forms(word: str) -> tuple[str, ...]:
    if any(is_cjk(c) for c in word):
        forms = _cjk_forms(word)
    else:
        forms = [anyascii(word).replace("'", "")]  # "Эньлай" → "En'lay": one word
        if _CYRILLIC.search(word):
            forms.append(pinyin_of_palladius(word))
    folded = [" ".join(t.folded for t in tokens(form)) for form in forms if form]
    return tuple(form for form in dict.fromkeys(folded) if form and form != word)


def romanised(*names: str) -> list[str]:
    """The Latin forms of some names, for the index ("Мао Цзэдун" → "mao tszedun",
    "mao zedong"): each name's words in every combination of their forms is too many, so
    a name gives its letter-by-letter form and, when it has one, its pinyin form."""
    result: list[str] = []
    for name in names:
        words = [t.folded for t in tokens(name)]
        if all(w.isascii() for w in words):
            continue
        for choice in (0, -1):
            form = " ".join((latin_forms(w) or [w])[choice] for w in words)
            if form not in result:
                result.append(form)
    return result
