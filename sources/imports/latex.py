"""LaTeX values of BibTeX files as Unicode text, as Zotero's BibTeX import reads them.

Accents (`{\\"o}`, `\\v{S}`), dashes, TeX quotes and braces through pylatexenc; maths into
Unicode (`$\\Sigma^{0}_{1}$` → Σ⁰₁, Greek letters and symbols by pylatexenc's tables);
and the characters other tools leave bare, which LaTeX would read as commands (CrossRef
writes `{Oil & Gas Journal}` and `50% of`): a bare `&`, `%`, `#` or `_` outside maths is
the character itself, never an alignment tab or the start of a comment that would cut
the value short. The work is bounded: nesting is measured before the parser sees it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db
from pylatexenc.latexwalker import LatexWalkerError

# pylatexenc's parser recurses a few frames per level of braces, environments and \( \[
# groups (a title of 3,000 nested \textbf{ exhausted the stack); titles nest two or three.
MAX_LATEX_NESTING = 20
SUPERSCRIPTS = str.maketrans("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ")
SUBSCRIPTS = str.maketrans("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")


@functools.cache
def _decoder() -> LatexNodes2Text:
    context = get_default_latex_context_db()
    # \url{…} as its bare address, not wrapped in <…>
    context.add_context_category(
        "marginalia-bibtex", prepend=True, macros=[MacroTextSpec("url", simplify_repl="%s")]
    )
    return LatexNodes2Text(latex_context=context, math_mode="text")


def latex_text(value: str, *, multiline: bool = False, field: str = "value") -> str:
    """Unicode text for a LaTeX value. ValueError naming `field` when it nests deeper
    than MAX_LATEX_NESTING. A forced line break (`\\\\`) is a line break of a multi-line
    field (our notes are written so), a space elsewhere."""
    if (depth := latex_nesting(value)) > MAX_LATEX_NESTING:
        raise ValueError(
            f"The {field} field nests braces or environments {depth} levels deep; "
            f"at most {MAX_LATEX_NESTING} are read."
        )
    value = _bare_specials(value)
    # TeX quotes, which pylatexenc leaves alone: ``…'' and `…'
    value = value.replace("``", "“").replace("''", "”")
    value = re.sub(r"`([^`']*)'", "‘\\1’", value)
    try:
        text = _decoder().latex_to_text(value)
    except LatexWalkerError:
        text = value
    text = unicodedata.normalize("NFC", text.replace("\xa0", " "))
    if not multiline:
        return " ".join(text.split())
    paragraphs = re.split(r"\n[ \t]*\n", text)
    paragraphs = ["\n".join(" ".join(line.split()) for line in p.split("\n")) for p in paragraphs]
    return "\n\n".join(p.strip("\n") for p in paragraphs if p.strip())


# A maths segment ($…$, \(…\)) or one character that is special outside maths.
_SEGMENTS = re.compile(r"(?<!\\)\$[^$]*(?<!\\)\$|\\\(.*?\\\)|(?<!\\)[&%#_]")


def _bare_specials(value: str) -> str:
    def replace(match: re.Match) -> str:
        token = match[0]
        if len(token) == 1:
            return "\\" + token
        return _scripts(token)

    return _SEGMENTS.sub(replace, value)


def _scripts(math: str) -> str:
    """Digits and signs raised or lowered as Unicode can write them: ^{0} → ⁰, _1 → ₁."""

    def raise_or_lower(match: re.Match) -> str:
        body = match[2] if match[2] is not None else match[3]
        table = SUPERSCRIPTS if match[1] == "^" else SUBSCRIPTS
        converted = body.translate(table)
        if all(ch in table_chars(table) for ch in body):
            return converted
        return body  # what Unicode cannot raise or lower (4^{ème}) reads on the line: 4ème

    math = re.sub(r"\\(?:textrm|mathrm|text|mbox)\{([^{}]*)\}", r"\1", math)
    return re.sub(r"([\^_])(?:\{([^{}\\]*)\}|([0-9+\-=()ni]))", raise_or_lower, math)


def table_chars(table: dict) -> set[str]:
    return {chr(code) for code in table}


_OPENS, _CLOSES = frozenset({"{", "\\begin", "\\(", "\\["}), frozenset({"}", "\\end", "\\)", "\\]"})
# `\\` (a line break) and `\{` `\}` (literal braces) are read first, so they count for nothing.
_LATEX_GROUPS = re.compile(r"\\\\|\\[{}]|\\(?:begin|end)\b|\\[()\[\]]|[{}]")


def latex_nesting(value: str) -> int:
    """How deep braces, environments and \\( \\[ groups nest in a LaTeX value (one pass)."""
    depth = deepest = 0
    for match in _LATEX_GROUPS.finditer(value):
        token = match[0]
        if token in _OPENS:
            depth += 1
            deepest = max(deepest, depth)
        elif token in _CLOSES:
            depth = max(0, depth - 1)
    return deepest
