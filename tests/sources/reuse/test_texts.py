"""Texts for the text-reuse tests (imported by the test_reuse_* modules): written for them
(the English and Chinese ones) or taken from the public-domain Roshchin record of
1 January 1950 in sources/demo/ (the Russian one).

The compilation is assembled from them the way a scraper assembles a web page: paragraphs
from several originals, reordered, their punctuation altered, their years dropped, a word
changed here and there, and filler headings in between.
"""

from __future__ import annotations

import re

TREATY_ESSAY = [
    "In December 1949, Mao Zedong left Beijing by train for Moscow, the first journey abroad "
    "of his life, to attend the celebrations of Stalin's seventieth birthday and to settle the "
    "terms of a new alliance between the two communist states.",
    "The reception in the Soviet capital was cooler than the Chinese delegation had expected. "
    "After a short meeting in the Kremlin on the day of his arrival, Mao was lodged at a dacha "
    "outside the city and left to wait, with little to do and nobody senior to talk to.",
    "Stalin hesitated because a new treaty would overturn the one he had signed with the "
    "Nationalist government in 1945, and with it the rights in Manchuria, the railway and the "
    "naval base at Port Arthur that the Yalta agreement had promised the Soviet Union.",
    "Only in January 1950 did Zhou Enlai travel to Moscow to negotiate the details, and the "
    "Treaty of Friendship, Alliance and Mutual Assistance was signed on 14 February 1950, "
    "together with agreements on a loan of three hundred million dollars.",
    "Historians who read the records of these conversations now agree that the weeks of "
    "waiting left a lasting mark on Mao, who spoke of them bitterly for the rest of his life.",
]

BORDER_ARTICLE = [
    "The long frontier between China and the Soviet Union had been drawn in the nineteenth "
    "century by treaties that Chinese governments of every colour regarded as unequal.",
    "When the border talks resumed in the spring of 1964, the Chinese side asked Moscow to "
    "admit that the old treaties had been imposed by force, while agreeing to take them as "
    "the basis for a settlement of the line itself.",
    "The Soviet negotiators refused to make any such admission, and the talks broke off after "
    "a few months without a single section of the boundary being agreed.",
    "Five years later, in March 1969, soldiers of the two armies fought on a small island in "
    "the Ussuri River, and for a few weeks the world wondered whether the two largest communist "
    "powers would go to war with each other.",
]

UNRELATED_NOTE = [
    "Archivists in provincial repositories often work with catalogues compiled decades ago, "
    "and the descriptions of files can differ widely from what the folders actually contain.",
    "A researcher who plans a visit should write to the reading room in advance, ask which "
    "inventories are open, and bring a list of file numbers rather than a list of topics.",
]

# Paragraphs 3, 11 and 13 of the Roshchin record of conversation (sources/demo/), in Russian.
ROSHCHIN_RECORD = [
    "По указанию министра иностранных дел СССР тов. Вышинского 1 января посетил председателя "
    "Центрального народного правительства Китайской Народной Республики тов. Мао Цзэдуна.",
    "Тов. Мао Цзэдун указал, что имеются также сведения и о том, что в ближайшее время Англия "
    "и другие страны британского содружества, видимо, предпримут шаги к признанию Китайской "
    "Народной Республики.",
    "Завершив деловые разговоры, он предполагает в оставшееся до отъезда время возложить венок "
    "в мавзолее Ленина, посмотреть метро, съездить в некоторые колхозы, побывать в театрах и на "
    "этом закончить свое пребывание в Москве.",
]

# Written for the tests: Mao's journey and the treaty, in Chinese.
CHINESE_HISTORY = [
    "1949年12月，毛泽东乘火车前往莫斯科，这是他第一次出国访问，目的是为斯大林祝寿并商谈两国之间的新条约。",
    "毛泽东到达以后，斯大林迟迟没有安排正式会谈，毛泽东在莫斯科郊外的别墅里等待了好几个星期，心中十分不满。",
    "1950年2月14日，中苏两国在莫斯科签订了友好同盟互助条约，苏联同时答应向中国提供贷款。",
]


def drop_years(text: str) -> str:
    """What the scraper did: every number of three or four digits vanishes."""
    return re.sub(r"(?<!\d)\d{3,4}(?!\d)", "", text)


def alter_punctuation(text: str) -> str:
    swaps = {",": " ,", ";": ",", "'": "\u2019", ".": " .", "，": ",", "。": "."}
    return "".join(swaps.get(char, char) for char in text)


COMPILATION_PARTS = [
    # (expected origin key, paragraph as the compilation prints it)
    (None, "Mao and Stalin: what really happened"),
    (
        "border",
        alter_punctuation(drop_years(BORDER_ARTICLE[1])).replace("spring", "summer"),
    ),
    ("essay", drop_years(TREATY_ESSAY[1])),
    ("roshchin", alter_punctuation(ROSHCHIN_RECORD[1])),
    (None, "Mao and Stalin: what really happened"),
    (
        "essay",
        alter_punctuation(drop_years(TREATY_ESSAY[0])).replace(
            "the first journey", "his first trip"
        ),
    ),
    ("border", drop_years(BORDER_ARTICLE[3]).replace("small ", "")),
    ("chinese", alter_punctuation(drop_years(CHINESE_HISTORY[1]))),
    ("chinese", alter_punctuation(drop_years(CHINESE_HISTORY[0]))),
    (
        "essay",
        drop_years(TREATY_ESSAY[2]).replace("Port Arthur", "Lüshun"),
    ),
    (
        None,
        (
            "Readers interested in the archives of this period should consult a specialist in "
            "the field before they travel to Moscow."
        ),
    ),
]


def compilation() -> str:
    return "\n\n".join(paragraph for _, paragraph in COMPILATION_PARTS)


def test_the_compilation_drops_years_alters_punctuation_and_reorders():
    text = compilation()
    assert "1949" not in text and "1964" not in text and "年12月" in text
    assert "force ," in text and "，" not in text
    assert text.index("The reception") < text.index("In December")  # reordered
