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
EvidenceType = Literal["bool", "int", "text", "serials", "lot-counts"]
Widget = Literal["choice", "text"]

# An `expect` may name a derived value instead of a literal: the run's firearm's chambers (int);
# every firearm out of storage with the armorer (serials: all must be listed); each lot's
# morning count minus the rounds the day's handoffs recorded as expended (lot-counts).
FIREARM_REFS = ("firearm.chambers",)
SERIALS_REFS = ("firearms.out",)
LOT_REFS = ("ammo.expected",)

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


class Spec(Protocol):
    """The checklist's declaration of one evidence item (`checklist.Evidence`)."""

    @property
    def key(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def expect(self) -> bool | int | str | None: ...


class EvidenceKind:
    """The behaviour every evidence type shares; subclasses override what differs."""

    name: ClassVar[str]
    widget: ClassVar[Widget] = "text"
    hint: ClassVar[str] = "text"  # what to enter, for the walk screen
    refs: ClassVar[tuple[str, ...]] = ()  # named `expect` references this type accepts
    names_firearms: ClassVar[bool] = False  # values are firearm serials (custody steps move them)
    counts_lots: ClassVar[bool] = False  # values are rounds per ammunition lot

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

    def lot_counts(self, value: Any) -> dict[str, int]:
        """The rounds per lot a recorded value counts (for the ammunition ledger)."""
        return {}


class BoolEvidence(EvidenceKind):
    name = "bool"
    widget = "choice"
    hint = "choose yes or no"

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
        return isinstance(expect, bool)

    def show(self, value: Any) -> str:
        if isinstance(value, bool):
            return "yes" if value else "no"
        return super().show(value)


class IntEvidence(EvidenceKind):
    """A count: digits only. Text around a number is refused, never read as the number
    ("about 20, plus 4 stunt" is not 204)."""

    name = "int"
    hint = "a whole number, digits only"
    refs = FIREARM_REFS

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
            return facts.run_chambers()
        return spec.expect


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
    hint = "serials, comma-separated; none for no firearm"
    refs = SERIALS_REFS
    names_firearms = True

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
        if spec.expect in SERIALS_REFS:
            return facts.firearms_out()
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        want = self.expected(spec, facts)
        if want is None:
            return None
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
        if spec.expect in LOT_REFS:
            return {lot: want for lot, (_, _, want) in facts.lot_reconciliation().items()}
        return spec.expect

    def mismatch(self, spec: Spec, value: Any, facts: Facts) -> str | None:
        want = self.expected(spec, facts)
        if want is None:
            return None
        got = value or {}
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

    def show(self, value: Any) -> str:
        return " ".join(f"{k}={v}" for k, v in (value or {}).items()) or "none"

    def lot_counts(self, value: Any) -> dict[str, int]:
        return {lot: int(n) for lot, n in value.items()} if isinstance(value, dict) else {}


EVIDENCE_TYPES: dict[str, EvidenceKind] = {
    kind.name: kind
    for kind in (
        BoolEvidence(),
        IntEvidence(),
        TextEvidence(),
        SerialsEvidence(),
        LotCountsEvidence(),
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
