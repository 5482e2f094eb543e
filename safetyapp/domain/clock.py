"""Times shown to people: the production's local time, with its zone. Pure.

The record keeps UTC (``events.iso``); a production has a time zone (an IANA name, set at
``init``), its shooting days are local calendar dates, and every time a person reads (TUI,
CLI text, reports, messages) is that zone's local time in one format, defined here:

    ``2026-12-02 14:05 PST``        (`shown`: date, minutes and the zone's abbreviation)
    ``14:05 PST``                   (`shown(..., date=False)`: where the day is clear)
    ``2026-12-02 14:05:12 PST``     (`shown(..., seconds=True)`: the audit log)
    ``14:05:12``                    (`shown(..., named=False)`: the daily report, which names
                                     its zone once, in its header and summary)

A zone without an abbreviation shows its offset (``+0530`` style, as the zone database names
it, e.g. ``+0545``); UTC shows ``UTC``. Machine-readable outputs keep ISO 8601 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from safetyapp.domain import events as ev

Moment = datetime | str
# A zone: its IANA name (as a production records it), or a tzinfo already made from one.
Zone = str | tzinfo | None


def zone_ok(name: str) -> bool:
    """True for a time zone name this machine's zone database knows (UTC always)."""
    if name == "UTC":
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(name: Zone) -> tzinfo:
    """The zone named `name`; UTC for none, or for a name this machine does not know (the
    name was checked at `init`; a record moved to a machine without it still reads)."""
    if isinstance(name, tzinfo):
        return name
    if not name or name == "UTC":
        return UTC  # needs no zone database
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def local(moment: Moment, zone_name: Zone) -> datetime:
    """`moment` (an aware datetime, or a record's UTC time text) in the zone `zone_name`."""
    at = ev.parse_time(moment) if isinstance(moment, str) else moment
    return at.astimezone(zone(zone_name))


def local_date(moment: Moment, zone_name: Zone) -> date:
    """The local calendar date of `moment` in the zone (a production's days are these)."""
    return local(moment, zone_name).date()


def zone_label(moment: Moment, zone_name: Zone) -> str:
    """The zone's abbreviation at `moment` (PST, AEDT, UTC), or its offset when it has none."""
    at = local(moment, zone_name)
    name = at.tzname() or ""
    if name and not name.startswith(("+", "-")):
        return name
    offset = at.strftime("%z")
    return offset if offset not in ("", "+0000") else "UTC"


def shown(
    moment: Moment | None,
    zone_name: Zone,
    *,
    date: bool = True,
    seconds: bool = False,
    named: bool = True,
) -> str:
    """`moment` as a person reads it: local time in the zone with the zone (see the module);
    "" for no moment. `named=False` leaves the zone off, for a document that names it once
    for all its times (the daily report's header and summary)."""
    if moment is None or moment == "":
        return ""
    at = local(moment, zone_name)
    clock = at.strftime("%H:%M:%S" if seconds else "%H:%M")
    text = f"{at:%Y-%m-%d} {clock}" if date else clock
    return f"{text} {zone_label(at, zone_name)}" if named else text
