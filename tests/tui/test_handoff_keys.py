"""The bundled handoff in at most 100 keystrokes in the real TUI, PIN digits included, with
every signature by its owner's PIN (13 PIN entries) and every step passed as entered."""

from __future__ import annotations

import sys
from pathlib import Path

# The bench package lives beside the tests, not in the installed package: appended (not put
# first), so `safetyapp` is still the installed one, as CI's non-editable install has it.
sys.path.append(str(Path(__file__).resolve().parents[2]))

from bench.handoff_keys import GOAL, walk_store


def test_a_whole_handoff_takes_at_most_100_keys_and_13_pins(tmp_path: Path) -> None:
    tally = walk_store(tmp_path / "record.jsonl")
    assert tally.keystrokes <= GOAL == 100, tally
    assert tally.pin_entries == 13 and tally.people_signed == 13  # each signature its own PIN
    assert tally.dialogs == 8  # the start and seven sign-offs
    assert list(tally.signed.values()) == ["pass"] * 7
    assert tally.keyboard_passes >= 1
