"""Crew names that cannot be confused (issue 12, item 3).

A crew name is who signed. Two names that look the same on a screen or a printed report
("Jordan Lee" and "Jordan Lеe" with a Cyrillic е) would let one person sign as two, so:

- :func:`normalise`: NFC, every kind of space as one plain space, trimmed;
- :func:`character_problem`: control, format (zero-width, bidi), separator, private-use,
  unassigned and other invisible characters are refused, naming the character (``U+200B ZERO
  WIDTH SPACE``), as are stray or stacked combining marks;
- :func:`new_name_problem`: a new name that any crew name already has the same
  :func:`skeleton` (Unicode TR39 confusable skeleton), or the same letters ignoring case, width
  and spacing, is refused with the name it collides with;
- :func:`find` and :func:`did_you_mean`: lookups forgive case, width and spacing, and an unknown
  name gets the closest crew name.

The confusables table is Unicode's ``confusables.txt`` as shipped by the ``confusable-homoglyphs``
package (a data file inside the package, read once, on the first skeleton: plain static data,
not state). That package's own checks answer another question (does a string hold *any*
character that has a homoglyph, which is true of a plain "e"), so the TR39 skeleton is built here
from its table: each source character mapped to its prototype.
"""

from __future__ import annotations

import difflib
import json
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

MAX_LENGTH = 120

# Unicode general categories a name never needs: controls, format characters (zero-width
# space/joiner, bidi embeddings and overrides, soft hyphen...), surrogates, private use,
# unassigned, line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}

# Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and blank-looking characters outside
# the categories above: they draw as nothing (or as a space) in most fonts.
_INVISIBLE_RANGES = (
    (0x034F, 0x034F),  # combining grapheme joiner
    (0x115F, 0x1160),  # Hangul fillers
    (0x17B4, 0x17B5),  # Khmer inherent vowels
    (0x180B, 0x180F),  # Mongolian variation selectors
    (0x2800, 0x2800),  # braille pattern blank
    (0x3164, 0x3164),  # Hangul filler
    (0xFE00, 0xFE0F),  # variation selectors
    (0xFFA0, 0xFFA0),  # halfwidth Hangul filler
    (0x1D173, 0x1D17A),  # musical formatting
    (0xE0100, 0xE01EF),  # variation selectors supplement
)

_MAX_MARKS = 2  # combining marks on one letter ("é" has one, Vietnamese "ệ" two)

_BIDI = {
    "\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
    "\u2066", "\u2067", "\u2068", "\u2069",
}  # fmt: skip


def describe(char: str) -> str:
    """``U+200B ZERO WIDTH SPACE``: a character named so that it can be seen and looked up."""
    return f"U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')}"


def normalise(name: str) -> str:
    """NFC, each run of spaces (of any kind: no-break, thin, ideographic...) one plain space,
    no space at either end."""
    nfc = unicodedata.normalize("NFC", name)
    return _collapse("".join(" " if unicodedata.category(c) == "Zs" else c for c in nfc))


def _collapse(text: str) -> str:
    return " ".join(part for part in text.split(" ") if part)


def _invisible(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in _INVISIBLE_RANGES)


def character_problem(name: str) -> str | None:
    """Why ``name`` (normalised) cannot be a crew name because of a character in it; None if
    every character is fine."""
    marks = 0
    for i, char in enumerate(name):
        category = unicodedata.category(char)
        if char in _BIDI:
            kind = "a bidirectional control character"
        elif category in _REFUSED_CATEGORIES:
            kind = "an invisible or control character"
        elif _invisible(char):
            kind = "an invisible character"
        else:
            kind = ""
        if kind:
            return (
                f"the name contains {kind} ({describe(char)}) at position {i + 1}; "
                "type the name with visible letters only"
            )
        if category.startswith("M"):
            marks += 1
            if i == 0 or name[i - 1] == " ":
                return f"the name has a combining mark ({describe(char)}) with no letter before it"
            if marks > _MAX_MARKS:
                return (
                    f"the name stacks more than {_MAX_MARKS} combining marks on one letter "
                    f"(position {i + 1}, {describe(char)})"
                )
        else:
            marks = 0
    return None


# -- confusable skeletons (Unicode TR39) --------------------------------------------------------

_DISPLAY_MARKS = "\u200e\u200f"  # confusables.txt wraps right-to-left samples in LRM for display


@cache
def _prototypes() -> dict[str, str]:
    """Each confusable source character -> its prototype (one or more characters), from
    confusables.txt as the confusable-homoglyphs package ships it: a table that lists every
    pair in both directions (source -> [prototype], prototype -> [sources...])."""
    raw = resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    table: dict[str, list[dict[str, str]]] = json.loads(raw)
    pairs: dict[str, list[str]] = {}
    for key, entries in table.items():
        pairs[key.strip(_DISPLAY_MARKS)] = [e["c"].strip(_DISPLAY_MARKS) for e in entries]
    mapping: dict[str, str] = {}
    for key, others in pairs.items():
        # A source is always one code point and has exactly one prototype; a prototype is
        # never a source. So a key with several partners, or of several characters, is a
        # prototype; a lone pair of single characters is ambiguous and mapped to one of the
        # two (the ASCII one, else the lower code point): the skeletons agree either way.
        if len(key) != 1:
            for source in others:
                mapping[source] = key
        elif len(others) > 1:
            for source in others:
                if len(source) == 1:
                    mapping[source] = key
        elif len(others) == 1:
            (other,) = others
            if len(other) != 1 or len(pairs.get(other, ())) > 1:
                mapping.setdefault(key, other)
            elif key not in mapping and other not in mapping:
                keep = min((key, other), key=lambda c: (not c.isascii(), ord(c)))
                mapping[other if keep == key else key] = keep
    for source, target in list(mapping.items()):  # never map a prototype onward
        if target in mapping and mapping[target] != target:
            mapping[source] = mapping[target]
    if len(mapping) < 5000 or mapping.get("\u0435") != "e":  # Cyrillic е -> e
        raise RuntimeError(
            "the confusables table of the confusable-homoglyphs package is not in the expected "
            "form; reinstall safetyapp with its pinned dependencies"
        )
    return mapping


def skeleton(text: str) -> str:
    """The TR39 skeleton: NFD, each character replaced by its prototype, NFD again. Two strings
    with the same skeleton are visually confusable."""
    table = _prototypes()
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFD", "".join(table.get(c, c) for c in decomposed))


def fold(name: str) -> str:
    """The name as a lookup compares it: compatibility forms (full-width letters...) folded,
    case ignored, spacing collapsed."""
    return _collapse(unicodedata.normalize("NFKC", normalise(name)).casefold())


def _keys(name: str) -> set[str]:
    folded = fold(name)
    return {folded, skeleton(normalise(name)), skeleton(folded)}


def new_name_problem(name: str, existing: Iterable[str]) -> str | None:
    """Why ``name`` (already :func:`normalise`\\ d) cannot join a crew holding ``existing``
    names: empty, too long, a refused character, or confusable with a name already there."""
    if not name:
        return "a crew member needs a name"
    if len(name) > MAX_LENGTH:
        return f"a name is at most {MAX_LENGTH} characters (this one has {len(name)})"
    problem = character_problem(name)
    if problem:
        return problem
    mine = _keys(name)
    for other in existing:
        if other == name:
            return f"there is already a crew member named '{other}'"
        odd = [c for c in dict.fromkeys(name) if c not in other]
        if fold(name) == fold(other):
            wide = [describe(c) for c in odd if not c.isascii()][:3]
            detail = f" ({', '.join(wide)})" if wide else ""
            return (
                f"'{name}' is '{other}', already on the crew, in other capitals, spacing or "
                f"character widths{detail}; a name must look different from every other crew name"
            )
        if mine & _keys(other):
            detail = f" ({', '.join(describe(c) for c in odd[:3])})" if odd else ""
            return (
                f"'{name}' can be confused with '{other}', already on the crew{detail}; "
                "a name must look different from every other crew name"
            )
    return None


def find(typed: str, names: Iterable[str]) -> str | None:
    """The crew name ``typed`` means: itself, else the one name equal ignoring case, width and
    spacing; None if there is none (or, should it ever happen, more than one)."""
    pool = list(names)
    if typed in pool:
        return typed
    wanted = fold(typed)
    matches = [n for n in pool if fold(n) == wanted]
    return matches[0] if len(matches) == 1 else None


def did_you_mean(typed: str, names: Iterable[str]) -> str | None:
    """The crew name closest to ``typed`` (a typo, a missing letter), if any is close."""
    by_fold = {fold(n): n for n in names}
    close = difflib.get_close_matches(fold(typed), list(by_fold), n=1, cutoff=0.6)
    return by_fold[close[0]] if close else None


def neutralise(typed: str) -> str:
    """A name typed by someone not (or not provably) on the crew, made safe to keep and show:
    :func:`normalise`\\ d, each control, format, bidirectional or invisible character spelled
    out as ``<U+200B>``, cut to :data:`MAX_LENGTH`. Never refused: a stop-work is taken with
    whatever name is given (issue 14)."""
    out = []
    for char in normalise(typed):
        hidden = (
            char in _BIDI or unicodedata.category(char) in _REFUSED_CATEGORIES or _invisible(char)
        )
        out.append(f"<U+{ord(char):04X}>" if hidden else char)
    return _collapse("".join(out))[:MAX_LENGTH]


def suggest(typed: str, known: Iterable[str], what: str) -> str:
    """A hint for an unknown name, id or key: "did you mean 'X'?" when one is close, else the
    list of those there are (at most 12)."""
    pool = list(known)
    if not pool:
        return f"there are no {what} yet"
    close = difflib.get_close_matches(typed.casefold(), [k.casefold() for k in pool], n=1)
    if close:
        match = next(k for k in pool if k.casefold() == close[0])
        return f"did you mean '{match}'?"
    shown = ", ".join(pool[:12]) + (", ..." if len(pool) > 12 else "")
    return f"the {what}: {shown}"
