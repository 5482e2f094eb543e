"""Evidence types (safetyapp/domain/evidence.py): each type reads, expects and shows its values,
and no other module decides what a type means."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from support import ACTOR, AD, ARMORER, handoff_steps, open_day, setup_world, sign, start, walk

from safetyapp.domain.evidence import EVIDENCE_TYPES, EvidenceType, kind_of
from safetyapp.domain.state import State

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "raw",
    [
        "about 20, plus 4 stunt",  # typed into a number field: was recorded as 204
        "1 concern: 4508 radio",  # a concern typed into a count: was recorded as 14508
        "24 people",
        "2 4",
        "twenty",
        "1_000",
        "٣",  # a digit, but not one the crew would read as a count
    ],
)
def test_a_count_with_anything_but_digits_is_refused_naming_the_field(raw: str) -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(
        world, run, "meeting-held", AD, ARMORER, evidence={"attendees": raw, "concerns-read": "yes"}
    )
    assert not decision.ok
    assert decision.refused is not None
    assert "evidence 'attendees' must be a whole number" in decision.refused
    assert "People at the meeting" in decision.refused and repr(raw.strip()) in decision.refused
    assert "meeting-held" not in world.state.runs[run].signoffs  # nothing half-recorded
    assert world.kinds()[-1] == "refused"


def test_a_negative_count_is_refused() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(
        world,
        run,
        "meeting-held",
        AD,
        ARMORER,
        evidence={"attendees": "-3", "concerns-read": "yes"},
    )
    assert (
        decision.refused
        == "evidence 'attendees' (People at the meeting) cannot be negative, got '-3'"
    )


def test_a_plain_count_with_spaces_around_it_is_read() -> None:
    world = setup_world()
    run = start(world, "opening")
    decision = sign(
        world,
        run,
        "meeting-held",
        AD,
        ARMORER,
        evidence={"attendees": " 24 ", "concerns-read": "yes"},
    )
    assert decision.ok
    assert world.state.runs[run].signoffs["meeting-held"].evidence["attendees"] == 24


def test_every_type_named_by_a_checklist_is_registered() -> None:
    from typing import get_args

    assert set(get_args(EvidenceType)) == set(EVIDENCE_TYPES)
    for name, kind in EVIDENCE_TYPES.items():
        assert (
            kind.name == name and kind.hint and kind.widget in ("choice", "count", "pick", "text")
        )


def test_display_text_per_type() -> None:
    assert kind_of("bool").show(True) == "yes" and kind_of("bool").show(False) == "no"
    assert kind_of("int").show(0) == "0"
    assert kind_of("serials").show(["COLT-1", "GLOCK-2"]) == "COLT-1 GLOCK-2"
    assert kind_of("serials").show([]) == "none"
    assert kind_of("lot-counts").show({"D-1": 36, "B-1": 6}) == "D-1=36 B-1=6"
    assert kind_of("lot-counts").show({}) == "none"


def test_the_fold_counts_lots_through_the_type() -> None:
    world = setup_world()
    open_day(world)
    state: State = world.state
    # The opening's morning count is the fold's ledger start; only lot-counts values count.
    assert state.ammo_reconciliation() == {"D-1": (36, 0, 36)}
    run = start(world, "handoff", firearm="COLT-1", performer=ACTOR[0], scene="1")
    steps = handoff_steps(ACTOR)
    step, by, witnesses, _ = steps[-1]
    steps[-1] = (step, by, witnesses, {"rounds-expended": "D-1=4", "reinspected-clear": "yes"})
    walk(world, run, steps)
    assert state.ammo_reconciliation() == {"D-1": (36, 4, 32)}


_TYPE_NAME = re.compile(r"""["'](bool|int|text|serials|lot-counts)["']""")
_BRANCH = re.compile(r"\.type\s*(==|!=|in\b)|\btype\s*==")


def test_no_module_but_evidence_branches_on_a_type_name() -> None:
    """Only domain/evidence.py decides what an evidence type means."""
    found = []
    for path in sorted((ROOT / "safetyapp").rglob("*.py")):
        if path.name == "evidence.py" and path.parent.name == "domain":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if _BRANCH.search(line) or ("spec" in line and _TYPE_NAME.search(line)):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []


@pytest.mark.parametrize(
    ("raw", "called"),
    [
        ("c", {}),
        ("cold", {}),
        ("d6", {"dummy": 6}),
        ("D6", {"dummy": 6}),
        ("b6", {"blank": 6}),
        ("d3, b3", {"dummy": 3, "blank": 3}),
        ("d3,b3", {"dummy": 3, "blank": 3}),
        ("dummies x6", {"dummy": 6}),
    ],
)
def test_the_called_state_takes_its_short_forms(raw: str, called: dict[str, int]) -> None:
    """The armorer's call typed in the walk's short forms reads as the same call spelled out."""
    kind = kind_of("state")
    assert kind.parse(_Spec("state-called"), raw, None) == called  # type: ignore[arg-type]
    assert kind.parse(_Spec("state-called"), kind.entered(called), None) == called  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["d", "x6", "hot", "d6 b", "d3, d3", "cold d6"])
def test_a_called_state_outside_the_set_is_refused_naming_it(raw: str) -> None:
    with pytest.raises(ValueError, match=r"fixed set|twice"):
        kind_of("state").parse(_Spec("state-called"), raw, None)  # type: ignore[arg-type]


class _Spec:
    def __init__(self, key: str) -> None:
        self.key, self.label, self.expect, self.min, self.loaded = key, key, None, None, None
