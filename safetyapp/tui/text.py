"""Showing user text literally, and result words that never rely on colour alone."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content

from safetyapp.domain import clock

STATUS_WORDS = {
    "passed": "✔ PASS",
    "failed": "✖ FAIL",
    "na": "– N/A",
    "open": "▶ OPEN",
    "locked": "· locked",
    "pass": "✔ PASS",
    "fail": "✖ FAIL",
    "refused": "⊘ REFUSED",
    "hold": "■ HOLD",
    "complete": "✔ COMPLETE",
    "resolved": "✔ RESOLVED",
    "void": "⌀ VOID",
    "stale": "⟳ STALE",
}


_BIDI = {0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}


def visible(value: object) -> str:
    """User text made safe to draw: control characters and bidi overrides shown as symbols.

    The stored text is untouched; this only stops an ANSI escape or a right-to-left override
    in a name or note from repainting the terminal or reordering what the crew reads.
    """
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20:
            out.append(chr(0x2400 + code))  # ␛, ␀, ... control pictures
        elif code == 0x7F:
            out.append("␡")
        elif 0x80 <= code < 0xA0 or code in _BIDI:
            out.append(f"<U+{code:04X}>")
        else:
            out.append(ch)
    return "".join(out)


def lit(value: object) -> Text:
    """User text (names, notes, serials) for DataTable cells: never parsed as markup."""
    return Text(visible(value), no_wrap=True, overflow="ellipsis")


def plain(value: object) -> Content:
    """User text for widgets that take Content: literal, no markup."""
    return Content(visible(value))


def word(status: str) -> str:
    return STATUS_WORDS.get(status, status.upper())


def short_time(iso: str | None, zone: str) -> str:
    """A record's time as the board and the walk show it: the production's local clock time
    with its zone, '2026-03-02T15:14:05.123Z' -> '07:14 PST' (America/Los_Angeles); the date
    and seconds are in the audit view."""
    return clock.shown(iso, zone, date=False)
