"""Languages as tools write them ("Russian", "russian", "en_US") as BCP 47 tags."""

from __future__ import annotations

import re

# Language names (English and babel) → BCP 47, for tools that write "Russian" or "russian".
LANGUAGE_NAMES = {
    "english": "en",
    "american": "en-US",
    "british": "en-GB",
    "ukenglish": "en-GB",
    "usenglish": "en-US",
    "russian": "ru",
    "chinese": "zh",
    "mandarin": "zh",
    "german": "de",
    "ngerman": "de",
    "french": "fr",
    "spanish": "es",
    "italian": "it",
    "polish": "pl",
    "czech": "cs",
    "slovak": "sk",
    "ukrainian": "uk",
    "belarusian": "be",
    "bulgarian": "bg",
    "serbian": "sr",
    "croatian": "hr",
    "slovenian": "sl",
    "hungarian": "hu",
    "magyar": "hu",
    "romanian": "ro",
    "albanian": "sq",
    "greek": "el",
    "turkish": "tr",
    "japanese": "ja",
    "korean": "ko",
    "vietnamese": "vi",
    "mongolian": "mn",
    "portuguese": "pt",
    "brazil": "pt-BR",
    "dutch": "nl",
    "swedish": "sv",
    "danish": "da",
    "norwegian": "no",
    "norsk": "no",
    "finnish": "fi",
    "estonian": "et",
    "latvian": "lv",
    "lithuanian": "lt",
    "georgian": "ka",
    "armenian": "hy",
    "arabic": "ar",
    "hebrew": "he",
    "persian": "fa",
    "farsi": "fa",
    "hindi": "hi",
    "latin": "la",
}
LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")


def language_tag(value: str) -> str:
    """BCP 47 for a language as tools write it: "ru", "en_US", "Russian", "russian"."""
    value = value.strip()
    if not value:
        return ""
    if tag := LANGUAGE_NAMES.get(value.casefold()):
        return tag
    if LANGUAGE_TAG.fullmatch(value):
        return value.replace("_", "-")
    first = re.split(r"[;,/]| and ", value)[0].strip()
    return LANGUAGE_NAMES.get(first.casefold(), value)
