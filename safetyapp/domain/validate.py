"""The shape of every stored event, checked once where the record is read (the fold's entry).

A hash only proves that an event was not changed after it was written, not that the app wrote
it: a hand-made, correctly hashed event can hold anything. Every event of a known kind is checked
here before it is folded, so nothing later (the engine, a report, an export) meets a malformed
time or a field of the wrong type. Pure: no IO.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from safetyapp.domain import events as ev

__all__ = ["field_problem"]

Check = Callable[[Any], str | None]  # None when the value is fine, else what is wrong


def _time_ok(value: Any) -> bool:
    """Exactly the form events.iso() writes: YYYY-MM-DDTHH:MM:SS.ffffffZ, a real moment."""
    if type(value) is not str or len(value) != 27 or value[26] != "Z" or not value.isascii():
        return False
    try:
        moment = datetime.fromisoformat(value[:26])
    except ValueError:
        return False
    # Round trip: the same text back means the same digits and separators, nothing else.
    return moment.tzinfo is None and moment.isoformat(timespec="microseconds") == value[:26]


def _time(value: Any) -> str | None:
    if _time_ok(value):
        return None
    if type(value) is str and len(value) == 27 and value.endswith("Z"):
        return f"not a real UTC date and time: {_show(value)}"
    return f"expected a UTC time like 2026-03-02T07:00:00.000000Z, found {_show(value)}"


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _str(value: Any) -> str | None:
    return None if type(value) is str else f"expected text, found {_show(value)}"


def _opt_str(value: Any) -> str | None:
    return (
        None
        if value is None or type(value) is str
        else f"expected text or null, found {_show(value)}"
    )


def _date(value: Any) -> str | None:
    """A calendar date exactly as YYYY-MM-DD (a qualification's date or expiry)."""
    if type(value) is str and len(value) == 10 and value.isascii():
        try:
            if date.fromisoformat(value).isoformat() == value:
                return None
        except ValueError:
            pass
    return f"expected a date like 2026-03-02, found {_show(value)}"


def _int(value: Any) -> str | None:
    return None if type(value) is int else f"expected a whole number, found {_show(value)}"


def _opt_int(value: Any) -> str | None:
    ok = value is None or type(value) is int
    return None if ok else f"expected a whole number or null, found {_show(value)}"


def _bool(value: Any) -> str | None:
    return None if type(value) is bool else f"expected true or false, found {_show(value)}"


def _dict(value: Any) -> str | None:
    return None if type(value) is dict else f"expected an object, found {_show(value)}"


def _str_list(value: Any) -> str | None:
    if type(value) is list and all(type(v) is str for v in value):
        return None
    return f"expected a list of text, found {_show(value)}"


def _people(value: Any) -> str | None:
    if type(value) is list and all(
        type(p) is dict and type(p.get("name")) is str and type(p.get("role")) is str for p in value
    ):
        return None
    return f"expected a list of {{name, role}}, found {_show(value)}"


def _digest(value: Any) -> str | None:
    """A SHA-256 digest as 64 lower-case hex characters."""
    if type(value) is str and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
        return None
    return f"expected a SHA-256 digest (64 hex characters), found {_show(value)}"


def _approvers(value: Any) -> str | None:
    problem = _people(value)
    if problem is None and not value:
        return "expected at least one {name, role}, found an empty list"
    return problem


def _one_of(*allowed: str) -> Check:
    def check(value: Any) -> str | None:
        return (
            None
            if value in allowed
            else f"expected one of {', '.join(allowed)}, found {_show(value)}"
        )

    return check


# Top-level fields every event has (see events.event).
_COMMON: dict[str, Check] = {
    "time": _time,
    "by": _opt_str,
    "role": _opt_str,
    "run": _opt_str,
    "step": _opt_str,
    "result": _opt_str,
    "note": _str,
    "data": _dict,
}
# Per kind: top-level fields that must be set, and data fields (name -> (check, required)).
_REQUIRED_TOP: dict[str, dict[str, Check]] = {
    ev.RUN_STARTED: {"run": _str},
    ev.SIGNED: {
        "run": _str,
        "step": _str,
        "by": _str,
        "role": _str,
        "result": _one_of("pass", "fail", "na"),
    },
    ev.LAYER_STALE: {"run": _str},
    ev.RUN_COMPLETED: {"run": _str},
    ev.DAY_OPENED: {"run": _str},
    ev.LOCKOUT: {"by": _str},
    ev.FLAG_ACKNOWLEDGED: {"by": _str},
    ev.CREW_ROLE_GRANTED: {"by": _str},
    ev.CREW_ROLE_REVOKED: {"by": _str},
    ev.CREW_DEACTIVATED: {"by": _str},
    ev.CREW_TRAINED: {"by": _str},
    ev.CREW_LICENSED: {"by": _str},
    ev.CHECKLIST_ADOPTED: {"by": _str},
    ev.CUSTODY_TAKEN_BACK: {"by": _str, "role": _one_of("armorer")},
    ev.RUN_VOIDED: {"run": _str, "by": _str},
}
_R, _O = True, False
_DATA: dict[str, dict[str, tuple[Check, bool]]] = {
    ev.PRODUCTION_CREATED: {
        "name": (_str, _R),
        "format": (_int, _O),
        "timezone": (_str, _O),
        "blank_distance_ft": (_int, _O),
    },
    # Format 2: a PIN record is named by its id (`credential`); the hash is never on the record.
    ev.CREW_ADDED: {"name": (_str, _R), "roles": (_str_list, _R), "credential": (_str, _R)},
    ev.CREW_PIN_SET: {"name": (_str, _R), "credential": (_str, _R)},
    ev.CREW_ROLE_GRANTED: {"name": (_str, _R), "role": (_str, _R)},
    ev.CREW_ROLE_REVOKED: {"name": (_str, _R), "role": (_str, _R)},
    ev.CREW_DEACTIVATED: {"name": (_str, _R)},
    ev.CREW_TRAINED: {"name": (_str, _R), "date": (_date, _R), "provider": (_str, _R)},
    ev.CREW_LICENSED: {
        "name": (_str, _R),
        "number": (_str, _R),
        "issuer": (_str, _R),
        "expires": (_date, _R),
    },
    ev.FIREARM_ADDED: {
        "serial": (_str, _R),
        "description": (_str, _R),
        "kind": (_str, _R),
        "chambers": (_opt_int, _O),
    },
    ev.AMMO_ADDED: {
        "lot": (_str, _R),
        "type": (_str, _R),
        "count": (_int, _R),
        "source": (_str, _O),
    },
    # Format 3: every checklist version a run walks is adopted, with its full text, first.
    ev.CHECKLIST_ADOPTED: {
        "checklist_id": (_str, _R),
        "version": (_int, _R),
        "title": (_str, _R),
        "digest": (_digest, _R),
        "checklist": (_dict, _R),
        "approvers": (_approvers, _R),
        "founding": (_bool, _O),
        "source": (_str, _O),
    },
    ev.RUN_STARTED: {
        "digest": (_digest, _R),
        "day": (_opt_int, _O),
        "firearm": (_opt_str, _O),
        "performer": (_opt_str, _O),
        "scene": (_opt_str, _O),
    },
    ev.SIGNED: {"witnesses": (_people, _O), "evidence": (_dict, _O), "read_out": (_str_list, _O)},
    ev.LAYER_STALE: {"layer": (_str, _R)},
    ev.DAY_OPENED: {"day": (_int, _R)},
    ev.DAY_WRAPPED: {"day": (_opt_int, _O)},
    ev.HOLD_RAISED: {
        "hold": (_str, _R),
        "cause": (_str, _R),
        "layer": (_opt_str, _O),
        "incident": (_opt_str, _O),
        "subject": (_opt_str, _O),
        "verified": (_bool, _O),  # format 3: false when raised without a (right) PIN
        "unverified": (_opt_str, _O),
    },
    ev.HOLD_RESOLVED: {
        "hold": (_str, _R),
        "resolvers": (_people, _O),
        "layer": (_opt_str, _O),
        "incident": (_opt_str, _O),
    },
    ev.REFUSED: {"code": (_opt_str, _O), "person": (_opt_str, _O)},
    ev.CUSTODY_CHANGED: {
        "serial": (_str, _R),
        "holder": (_one_of("locked", "armorer", "performer", "unaccounted"), _R),
        "name": (_opt_str, _O),
    },
    ev.CUSTODY_BREAK: {"serials": (_str_list, _R), "ammunition": (_bool, _O)},
    ev.CUSTODY_TAKEN_BACK: {
        "serial": (_str, _R),
        "holder": (_one_of("armorer"), _R),
        "name": (_str, _R),
        "previous": (_str, _O),
        "previous_name": (_opt_str, _O),
    },
    ev.RUN_VOIDED: {"signers": (_people, _R)},
    ev.INCIDENT_REPORTED: {
        "incident": (_str, _R),
        "incident_kind": (_str, _R),
        "serial": (_opt_str, _O),
        "hold": (_opt_str, _O),
        "day": (_opt_int, _O),
    },
    ev.FLAG_RAISED: {"flag": (_str, _R), "cause": (_str, _R)},
    ev.FLAG_ACKNOWLEDGED: {"flag": (_str, _R)},
}
_KNOWN = frozenset(ev.KINDS)


def field_problem(record: Mapping[str, Any]) -> tuple[str, str] | None:
    """``(field, what is wrong)`` for the first malformed field of an event of a known kind
    (data fields are named ``data.KEY``), or None. Events of other kinds are not checked here
    (the fold ignores them)."""
    kind = record.get("kind")
    if kind not in _KNOWN:
        return None
    # The common case, every field fine, checked without a call per field (this runs on every
    # event read); anything else is looked at again, field by field, to say what is wrong.
    try:
        data = record["data"]
        fine = (
            type(data) is dict
            and type(record["note"]) is str
            and type(record["by"]) in _STR_OR_NONE
            and type(record["role"]) in _STR_OR_NONE
            and type(record["run"]) in _STR_OR_NONE
            and type(record["step"]) in _STR_OR_NONE
            and type(record["result"]) in _STR_OR_NONE
            and _time_ok(record["time"])
            and _FAST.get(kind, _rest_ok)(kind, record, data)
        )
    except KeyError:
        fine = False
    return None if fine else _first_problem(kind, record)


_STR_OR_NONE = (str, type(None))


def _rest_ok(kind: str, record: Mapping[str, Any], data: dict[str, Any]) -> bool:
    for name, check in _REQUIRED_TOP.get(kind, {}).items():
        if check(record[name]) is not None:
            return False
    for name, (check, required) in _DATA.get(kind, {}).items():
        if name in data:
            if check(data[name]) is not None:
                return False
        elif required:
            return False
    return True


def _signed_ok(kind: str, record: Mapping[str, Any], data: dict[str, Any]) -> bool:
    # The same checks as _REQUIRED_TOP and _DATA say for a sign-off, unrolled: most events are.
    witnesses = data.get("witnesses", ())
    return (
        type(record["run"]) is str
        and type(record["step"]) is str
        and type(record["by"]) is str
        and type(record["role"]) is str
        and record["result"] in _RESULTS
        and type(data.get("evidence", _EMPTY)) is dict
        and (type(witnesses) is list or witnesses == ())
        and all(
            type(w) is dict and type(w.get("name")) is str and type(w.get("role")) is str
            for w in witnesses
        )
        and ("read_out" not in data or _str_list(data["read_out"]) is None)
    )


_RESULTS = frozenset(("pass", "fail", "na"))
_EMPTY: dict[str, Any] = {}
_FAST = {ev.SIGNED: _signed_ok}


def _first_problem(kind: str, record: Mapping[str, Any]) -> tuple[str, str] | None:
    for name, check in _COMMON.items():
        if name not in record:
            return name, "missing"
        problem = check(record[name])
        if problem is not None:
            return name, problem
    for name, check in _REQUIRED_TOP.get(kind, {}).items():
        problem = check(record[name])
        if problem is not None:
            return name, problem
    data = record["data"]
    for name, (check, required) in _DATA.get(kind, {}).items():
        if name not in data:
            if required:
                return f"data.{name}", "missing"
            continue
        problem = check(data[name])
        if problem is not None:
            return f"data.{name}", problem
    return None
