"""Evidence types: one class per `type:` a checklist's evidence can name.

Each class owns everything that depends on the type: reading the text the crew entered
(`parse`), which `expect` values it accepts and what a named reference resolves to
(`expect_fits`, `expected`), when a value contradicts its `expect` (`mismatch`), how a value is
shown (`show`), and how the walk screen asks for it (`widget`, `hint`). Nothing else branches on
a type's name: the engine, the fold, the checklist checks, the report and the TUI ask the class.

To add a type: write a subclass, name it in `EvidenceType` and register it in `EVIDENCE_TYPES`.

Pure: the record is read through `Facts`, which the engine builds from the fold's state.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any, ClassVar, Literal, Protocol, get_args

# `serials`: firearm serials from the inventory ("COLT-1, GLOCK-2"); `lot-counts`: rounds per
# declared lot ("D-1=36, B-2=24"; "0" or "none" for no rounds).
# `state`: the state the armorer calls ("cold", "dummies x6", "blanks x6", "dummies x3, blanks
# x3"); `distance`: the safe distance kept from blank fire, in feet, with a risk-assessed reason
# when shorter than the production's ("20", "12: RA-4 section 3, shield in place").
EvidenceType = Literal["bool", "int", "text", "serials", "lot-counts", "state", "distance"]
# How the walk asks: a yes/no toggle, a digits-only count, a pick from a numbered list, text.
Widget = Literal["choice", "count", "pick", "text"]

# An `expect` may name a derived value instead of a literal: the run's firearm's chambers (or
# magazine capacity; 0 for a firearm that holds no rounds) (int); the dummy rounds this run's
# lot counts list (int: every dummy out is checked); every firearm out of storage with the
# armorer (serials: all must be listed); the run's own firearm (serials: the one in hand); each
# lot's morning count minus the rounds the day's handoffs recorded as expended (lot-counts);
# every declared lot's count on hand (lot-counts: every lot counted, each as on hand); at most
# the rounds this run loaded, per type (lot-counts: expended).
FIREARM_REFS = ("firearm.chambers",)
DUMMY_REFS = ("ammo.dummies",)
SERIALS_REFS = ("firearms.out", "firearm.serial")
LOT_REFS = ("ammo.expected", "ammo.on-hand", "rounds.loaded")
# The pre-production gate's checks against the record (bool): yes, and the record agrees: every
# armorer's licence in date (`crew.licensed`), training on file for everyone who handles or is
# near firearms (`crew.trained`). A yes the record contradicts fails, naming who lacks what.
CREW_REFS = {"crew.licensed": "licences", "crew.trained": "training"}
# What the checklists' blank-fire distance falls back to: Safety Bulletin #1's about 20 ft.
DEFAULT_BLANK_DISTANCE_FT = 20

_NONE_WORDS = ("", "0", "none", "no", "-")
_DIGITS = re.compile(r"[0-9]+")


class EvidenceError(ValueError):
    """Evidence text that cannot be read; the message names the field and what to enter."""


class Facts(Protocol):
    """What evidence reads from the record while a step is signed (the fold's state and the
    run being signed)."""

    def firearm_serials(self) -> Collection[str]: ...

    def lot_ids(self) -> Collection[str]: ...

    def run_chambers(self) -> int | None: ...

    def firearms_out(self) -> list[str]: ...

    def lot_reconciliation(self) -> Mapping[str, tuple[int, int, int]]:
        """Per lot: (morning count, expended by the day's handoffs, expected now)."""
        ...

    def lots_on_hand(self) -> Mapping[str, int]:
        """Per declared lot: rounds on hand (its declared count, or its last wrap count)."""
        ...

    def lot_type(self, lot: str) -> str | None:
        """A declared lot's ammunition type (dummy, blank)."""
        ...

    def run_serial(self) -> str | None:
        """The serial of the run's firearm."""
        ...

    def run_loads(self) -> Mapping[str, int] | None:
        """Rounds this run's sign-offs record as loaded, per ammunition type; None before any."""
        ...

    def run_dummies(self) -> int:
        """Dummy rounds this run's lot counts list so far."""
        ...

    def blank_distance(self) -> int:
        """The production's safe distance from blank fire, in feet (its risk assessment)."""
        ...

    def qualifications_missing(self, which: str) -> list[str]:
        """What the record lacks today: `licences` (armorers) or `training` (everyone who
        handles or is near firearms), one line per person and record."""
        ...


class Spec(Protocol):
    """The checklist's declaration of one evidence item (`checklist.Evidence`)."""

    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def expect(self) -> bool | int | str | None: ...

    @property
    def min(self) -> int | None: ...

    @property
    def loaded(self) -> str | None: ...


class EvidenceKind:
    """The behaviour every evidence type shares; subclasses override what differs."""

    name: ClassVar[str]
    widget: ClassVar[Widget] = "text"
    hint: ClassVar[str] = "text"  # what to enter, for the walk screen
    refs: ClassVar[tuple[str, ...]] = ()  # named `expect` references this type accepts
    names_firearms: ClassVar[bool] = False  # values are firearm serials (custody steps move them)
    counts_lots: ClassVar[bool] = False  # values are rounds per ammunition lot
    is_count: ClassVar[bool] = False  # values are whole-number counts (`min`, `loaded` apply)

    def parse(self, spec: Spec, raw: str, facts: Facts) -> Any:
        raise NotImplementedError

    def entered(self, value: Any) -> str:
        """Text that `parse` reads back as this recorded value: replay (domain/replay.py)
        re-enters what the record says was entered. A value of the wrong shape gives text that
        does not read back to it, so the replayed event differs from the recorded one."""
        return repr(value)

    def expect_fits(self, expect: bool | int | str) -> bool:
        return expect in self.refs

    def expected(self, spec: Spec, facts: Facts) -> Any:
        """The value `expect` asks for (a named reference resolved), or None for no check."""
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        """Why a value contradicts the spec's `expect`, or None when it fits."""
        want = self.expected(spec, facts)
        if want is None or value == want:
            return None
        return f"{spec.label}: {self.show(value)}, expected {self.show(want)}"

    def show(self, value: Any) -> str:
        """A recorded value as the crew reads it."""
        return "" if value is None else str(value)

    def serials(self, value: Any) -> list[str]:
        """The firearm serials a recorded value names (for custody steps)."""
        return []

    def most(self, spec: Spec, chambers: int | None) -> int | None:
        """The largest count the firearm in hand can physically give (its chambers, or
        magazine capacity; 0 for one that holds no rounds), or None when nothing bounds it."""
        return None

    def picks_one(self, spec: Spec) -> bool:
        """A pick from a list that takes exactly one item (the serial of the firearm in hand)."""
        return False

    def complete(self, spec: Spec, raw: str, chambers: int | None, lots: Collection[str]) -> bool:
        """True once typed text is a whole answer that no further key could extend (the walk
        then moves on by itself): a count the firearm in hand bounds, a call that fills every
        chamber, "0" for no rounds or no distance. Otherwise Enter moves on."""
        return False

    def lot_counts(self, value: Any) -> dict[str, int]:
        """The rounds per lot a recorded value counts (for the ammunition ledger)."""
        return {}


class BoolEvidence(EvidenceKind):
    """Yes or no. `expect: blanks.loaded` asks for yes only when this run loaded blanks (the
    AD's "hot" called to the set)."""

    name = "bool"
    widget = "choice"
    hint = "choose yes or no"
    refs = ("blanks.loaded", *CREW_REFS)

    def parse(self, spec: Spec, raw: str, facts: Facts) -> bool:
        low = raw.strip().lower()
        if low in ("yes", "y", "true", "1"):
            return True
        if low in ("no", "n", "false", "0"):
            return False
        raise EvidenceError(f"evidence '{spec.key}' must be yes or no")

    def entered(self, value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return repr(value)

    def expect_fits(self, expect: bool | int | str) -> bool:
        return isinstance(expect, bool) or expect in self.refs

    def expected(self, spec: Spec, facts: Facts) -> Any:
        if spec.expect in CREW_REFS:
            return True
        if spec.expect in self.refs:
            return True if (facts.run_loads() or {}).get("blank") else None
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        if isinstance(spec.expect, str) and spec.expect in CREW_REFS:
            lacking = facts.qualifications_missing(CREW_REFS[spec.expect])
            if value is True and lacking:
                return f"{spec.label}: the record says otherwise: {'; '.join(lacking)}"
        why = super().mismatch(spec, value, facts)
        if why is not None and spec.expect == "blanks.loaded":
            return f"{spec.label}: blanks are loaded, so it is called to the set"
        return why

    def show(self, value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return super().show(value)


class IntEvidence(EvidenceKind):
    """A count: digits only. Text around a number is refused, never read as the number
    ("about 20, plus 4 stunt" is not 204)."""

    name = "int"
    widget = "count"
    hint = "a whole number, digits only"
    is_count = True
    refs = FIREARM_REFS + DUMMY_REFS

    def most(self, spec: Spec, chambers: int | None) -> int | None:
        if spec.loaded is not None or spec.expect in FIREARM_REFS:
            return chambers or 0
        return None

    def complete(self, spec: Spec, raw: str, chambers: int | None, lots: Collection[str]) -> bool:
        most = self.most(spec, chambers)
        if most is None or not _DIGITS.fullmatch(raw):
            return False
        return raw.startswith("0") or int(raw) * 10 > most

    def parse(self, spec: Spec, raw: str, facts: Facts) -> int:
        text = raw.strip()
        if text.startswith("-") and _DIGITS.fullmatch(text[1:].strip()):
            raise EvidenceError(
                f"evidence '{spec.key}' ({spec.label}) cannot be negative, got {text!r}"
            )
        if not _DIGITS.fullmatch(text):
            raise EvidenceError(
                f"evidence '{spec.key}' must be a whole number: {spec.label} takes digits"
                f" only, got {text!r}; enter the count alone (e.g. 24) and put anything else"
                " in the note"
            )
        return int(text)

    def entered(self, value: Any) -> str:
        return str(value) if type(value) is int else repr(value)

    def expect_fits(self, expect: bool | int | str) -> bool:
        return (isinstance(expect, int) and not isinstance(expect, bool)) or expect in self.refs

    def expected(self, spec: Spec, facts: Facts) -> Any:
        if spec.expect in FIREARM_REFS:
            # A firearm recorded without chambers holds no rounds: nothing to see but 0.
            return facts.run_chambers() or 0
        if spec.expect in DUMMY_REFS:
            return facts.run_dummies()
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        if spec.min is not None and isinstance(value, int) and value < spec.min:
            return f"{spec.label}: {value}, at least {spec.min}"
        if spec.expect in DUMMY_REFS and value != self.expected(spec, facts):
            want = self.expected(spec, facts)
            return f"{spec.label}: {value} of the {want} dummies counted out; check every one"
        return super().mismatch(spec, value, facts)


class TextEvidence(EvidenceKind):
    name = "text"
    hint = "text"

    def parse(self, spec: Spec, raw: str, facts: Facts) -> str:
        if not raw.strip():
            raise EvidenceError(f"evidence '{spec.key}' cannot be empty")
        return raw

    def entered(self, value: Any) -> str:
        return value if isinstance(value, str) else repr(value)

    def expect_fits(self, expect: bool | int | str) -> bool:
        return isinstance(expect, str)


def _split_items(text: str) -> list[str]:
    return [item for item in text.replace(";", ",").replace(" ", ",").split(",") if item]


class SerialsEvidence(EvidenceKind):
    name = "serials"
    widget = "pick"
    hint = "serials, comma-separated; none for no firearm"
    refs = SERIALS_REFS
    names_firearms = True

    def picks_one(self, spec: Spec) -> bool:
        return spec.expect == "firearm.serial"

    def parse(self, spec: Spec, raw: str, facts: Facts) -> list[str]:
        text = raw.strip()
        if text.lower() in _NONE_WORDS:
            return []
        serials = _split_items(text)
        known_serials = facts.firearm_serials()
        for serial in serials:
            if serial not in known_serials:
                known = ", ".join(known_serials) or "none"
                raise EvidenceError(
                    f"evidence '{spec.key}': no firearm {serial} in the inventory (known: {known})"
                )
        if len(set(serials)) != len(serials):
            raise EvidenceError(f"evidence '{spec.key}' names a firearm twice")
        return serials

    def entered(self, value: Any) -> str:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ",".join(value) or "none"
        return repr(value)

    def expected(self, spec: Spec, facts: Facts) -> Any:
        if spec.expect == "firearm.serial":
            serial = facts.run_serial()
            return [serial] if serial else []
        if spec.expect in SERIALS_REFS:
            return facts.firearms_out()
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        want = self.expected(spec, facts)
        if want is None:
            return None
        if spec.expect == "firearm.serial":
            if list(value or []) == want:
                return None
            return (
                f"{spec.label}: {self.show(value)} in hand, but this run is for"
                f" {self.show(want)}; a swapped firearm is never handed over"
            )
        missing = [s for s in want if s not in (value or [])]
        if missing:
            return f"{spec.label}: out of storage but not listed: {', '.join(missing)}"
        return None

    def show(self, value: Any) -> str:
        return " ".join(str(v) for v in value or []) or "none"

    def serials(self, value: Any) -> list[str]:
        return list(value or [])


class LotCountsEvidence(EvidenceKind):
    name = "lot-counts"
    hint = "LOT=COUNT, comma-separated (e.g. D-1=36); 0 for none"
    refs = LOT_REFS
    counts_lots = True

    def parse(self, spec: Spec, raw: str, facts: Facts) -> dict[str, int]:
        text = raw.strip()
        if text.lower() in _NONE_WORDS:
            return {}
        lots = facts.lot_ids()
        counts: dict[str, int] = {}
        for item in text.replace(";", ",").split(","):
            lot, sep, number = item.strip().partition("=")
            lot, number = lot.strip(), number.strip()
            if not item.strip():
                continue
            if not sep or not lot:
                raise EvidenceError(
                    f"evidence '{spec.key}' takes LOT=COUNT, comma-separated (e.g. D-1=36), got"
                    f" {item.strip()!r}"
                )
            if lot not in lots:
                known = ", ".join(lots) or "none declared"
                raise EvidenceError(
                    f"evidence '{spec.key}': no ammunition lot {lot} (declared: {known})"
                )
            if lot in counts:
                raise EvidenceError(f"evidence '{spec.key}' names lot {lot} twice")
            try:
                counts[lot] = int(number)
            except ValueError:
                raise EvidenceError(
                    f"evidence '{spec.key}': the count for {lot} must be a whole number"
                ) from None
            if counts[lot] < 0:
                raise EvidenceError(f"evidence '{spec.key}': a count cannot be negative")
        return counts

    def entered(self, value: Any) -> str:
        if isinstance(value, dict):
            return ",".join(f"{lot}={n!r}" for lot, n in value.items()) or "none"
        return repr(value)

    def expected(self, spec: Spec, facts: Facts) -> Any:
        if spec.expect == "ammo.on-hand":
            return dict(facts.lots_on_hand())
        if spec.expect == "rounds.loaded":
            return dict(facts.run_loads() or {})
        if spec.expect in LOT_REFS:
            return {lot: want for lot, (_, _, want) in facts.lot_reconciliation().items()}
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        got = value or {}
        if spec.expect == "ammo.on-hand":
            return self._on_hand_mismatch(spec, got, facts)
        if spec.expect == "rounds.loaded":
            return self._loaded_mismatch(spec, got, facts)
        want = self.expected(spec, facts)
        if want is None:
            return None
        wrong = []
        recon = facts.lot_reconciliation()
        for lot in [*want, *[lot for lot in got if lot not in want]]:
            if got.get(lot) != want.get(lot):
                morning, spent, _ = recon.get(lot, (0, 0, 0))
                wrong.append(
                    f"{lot} counted {got.get(lot, 'nothing')}, expected"
                    f" {want.get(lot, 'none (not counted this morning)')}"
                    f" (morning {morning} - expended {spent})"
                )
        return f"{spec.label}: " + "; ".join(wrong) if wrong else None

    def _on_hand_mismatch(self, spec: Spec, got: dict[str, int], facts: Facts) -> str | None:
        """Every declared lot with rounds on hand is counted, each at its count on hand: a lot
        left out or a different count is a discrepancy."""
        wrong = []
        for lot, want in facts.lots_on_hand().items():
            if lot not in got and want > 0:
                wrong.append(f"lot {lot} not counted ({want} on hand): count every declared lot")
            elif lot in got and got[lot] != want:
                wrong.append(f"{lot} counted {got[lot]}, declared {want} on hand")
        return f"{spec.label}: " + "; ".join(wrong) if wrong else None

    def _loaded_mismatch(self, spec: Spec, got: dict[str, int], facts: Facts) -> str | None:
        """Rounds expended, per ammunition type, are at most the rounds this run loaded."""
        loaded = facts.run_loads() or {}
        spent: dict[str, int] = {}
        for lot, n in got.items():
            kind = facts.lot_type(lot) or "unknown"
            spent[kind] = spent.get(kind, 0) + n
        wrong = [
            f"{n} {kind} rounds expended but {loaded.get(kind, 0)} loaded"
            for kind, n in spent.items()
            if n > loaded.get(kind, 0)
        ]
        return f"{spec.label}: " + "; ".join(wrong) if wrong else None

    def show(self, value: Any) -> str:
        return " ".join(f"{k}={v}" for k, v in (value or {}).items()) or "none"

    def lot_counts(self, value: Any) -> dict[str, int]:
        return {lot: int(n) for lot, n in value.items()} if isinstance(value, dict) else {}

    def complete(self, spec: Spec, raw: str, chambers: int | None, lots: Collection[str]) -> bool:
        return raw == "0" and not any(lot.startswith("0") for lot in lots)


# "dummies x6", or its short form "d6" (also "dx6"); "blanks x6" or "b6"; "c" is cold.
_STATE_ITEM = re.compile(r"(dummies|blanks|d|b)\s*(?:x\s*)?([0-9]+)")
_STATE_WORDS = {"dummies": "dummy", "blanks": "blank", "d": "dummy", "b": "blank"}
_LONG_WORDS = {"d": "dummies", "b": "blanks"}


class StateEvidence(EvidenceKind):
    """The state the armorer calls, from a fixed set: "cold" (empty), "dummies xN", "blanks
    xN", or a mix spelled out ("dummies x3, blanks x3"). It must match the rounds this run
    recorded as loaded. Stored as rounds per type (`{}` for cold). Short forms, the same
    calls: "c" (cold), "d6" (dummies x6), "b6" (blanks x6), "d3, b3"."""

    name = "state"
    hint = "cold (c), dummies x6 (d6), blanks x6 (b6), or a mix: dummies x3, blanks x3 (d3, b3)"

    def parse(self, spec: Spec, raw: str, facts: Facts) -> dict[str, int]:
        text = raw.strip().lower()
        if text in ("cold", "c"):
            return {}
        called: dict[str, int] = {}
        for item in [i.strip() for i in text.replace(";", ",").split(",")]:
            found = _STATE_ITEM.fullmatch(item)
            if found is None:
                raise EvidenceError(
                    f"evidence '{spec.key}' ({spec.label}) is called from a fixed set: cold (c),"
                    f" dummies xN (dN), blanks xN (bN), or a mix (dummies x3, blanks x3; d3, b3);"
                    f" got {raw.strip()!r}"
                )
            kind, n = _STATE_WORDS[found.group(1)], int(found.group(2))
            if kind in called:
                word = _LONG_WORDS.get(found.group(1), found.group(1))
                raise EvidenceError(f"evidence '{spec.key}' names {word} twice")
            if n > 0:
                called[kind] = n
        return called

    def expect_fits(self, expect: bool | int | str) -> bool:
        return expect == "rounds.loaded"

    def complete(self, spec: Spec, raw: str, chambers: int | None, lots: Collection[str]) -> bool:
        """A call that fills every chamber: no further round could be called."""
        try:
            called = self.parse(spec, raw, None)  # type: ignore[arg-type]  # reads no facts
        except EvidenceError:
            return False
        return bool(chambers) and sum(called.values()) == chambers and raw[-1:].isdigit()

    def expected(self, spec: Spec, facts: Facts) -> Any:
        loads = facts.run_loads()
        return None if loads is None else {k: n for k, n in loads.items() if n > 0}

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        want = self.expected(spec, facts)
        if want is None or dict(value or {}) == want:
            return None
        return (
            f"{spec.label}: called {self.show(value)}, but the loads recorded for this handoff"
            f" are {self.show(want)}"
        )

    def entered(self, value: Any) -> str:
        if isinstance(value, dict) and all(isinstance(n, int) for n in value.values()):
            return self.show(value)
        return repr(value)

    def show(self, value: Any) -> str:
        if not value:
            return "cold"
        words = {_STATE_WORDS[w]: w for w in _LONG_WORDS.values()}  # dummy -> dummies
        return ", ".join(f"{words.get(k, k)} x{n}" for k, n in value.items())


_DISTANCE = re.compile(r"([0-9]+)\s*(?:ft|feet|')?\s*(?:[:;,-]\s*(.*))?", re.DOTALL)


class DistanceEvidence(EvidenceKind):
    """The safe distance kept from blank fire, in feet, and why when it is shorter than the
    production's (its risk assessment; Safety Bulletin #1's about 20 ft by default). With no
    blank loaded it may be "none". Stored as {"feet": N, "reason": text} or None."""

    name = "distance"
    hint = "feet kept from blank fire (e.g. 20); shorter: 12: the risk-assessed reason; none if no blanks"

    def parse(self, spec: Spec, raw: str, facts: Facts) -> dict[str, Any] | None:
        text = raw.strip()
        if text.lower() in _NONE_WORDS[1:]:
            return None
        found = _DISTANCE.fullmatch(text)
        if found is None:
            raise EvidenceError(
                f"evidence '{spec.key}' ({spec.label}) takes feet, digits first (e.g. 20), and"
                f" after a colon the risk-assessed reason for a shorter one; got {text!r}"
            )
        reason = (found.group(2) or "").strip()
        return {"feet": int(found.group(1)), "reason": reason}

    def expect_fits(self, expect: bool | int | str) -> bool:
        return expect == "blank-distance"

    def complete(self, spec: Spec, raw: str, chambers: int | None, lots: Collection[str]) -> bool:
        return raw in ("0", "-")  # none: no blank fire, nothing to follow

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        loads = facts.run_loads() or {}
        if spec.expect is None or not loads.get("blank"):
            return None
        need = facts.blank_distance()
        if not isinstance(value, dict):
            return f"{spec.label}: blanks are loaded: record the distance kept (at least {need} ft)"
        if value["feet"] < need and not value.get("reason"):
            return (
                f"{spec.label}: {value['feet']} ft is under the production's {need} ft for"
                " blanks; shorter only with the risk-assessed reason recorded (e.g. 12: RA-4 §3)"
            )
        return None

    def entered(self, value: Any) -> str:
        if value is None:
            return "none"
        if isinstance(value, dict) and isinstance(value.get("feet"), int):
            reason = value.get("reason")
            return f"{value['feet']}" + (
                f": {reason}" if isinstance(reason, str) and reason else ""
            )
        return repr(value)

    def show(self, value: Any) -> str:
        if not isinstance(value, dict):
            return "none"
        reason = value.get("reason")
        return f"{value['feet']} ft" + (f" ({reason})" if reason else "")


EVIDENCE_TYPES: dict[str, EvidenceKind] = {
    kind.name: kind
    for kind in (
        BoolEvidence(),
        IntEvidence(),
        TextEvidence(),
        SerialsEvidence(),
        LotCountsEvidence(),
        StateEvidence(),
        DistanceEvidence(),
    )
}
assert set(EVIDENCE_TYPES) == set(get_args(EvidenceType)), "register every evidence type"


def kind_of(type_name: str) -> EvidenceKind:
    """The class for a checklist's `type:` (validated by the checklist model)."""
    return EVIDENCE_TYPES[type_name]


def describe(specs: Collection[Any], values: Mapping[str, Any]) -> str:
    """Recorded evidence as `key=value` pairs, each value shown by its type (a key the step no
    longer declares is shown as recorded)."""
    kinds = {spec.key: kind_of(spec.type) for spec in specs}
    return ", ".join(
        f"{key}={kinds[key].show(value) if key in kinds else _plain(value)}"
        for key, value in values.items()
    )


def _plain(value: Any) -> str:
    return "" if value is None else str(value)
