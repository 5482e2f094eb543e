"""Incident kinds and what each one does to the day (pure data)."""

from typing import Literal, get_args

IncidentKind = Literal[
    "unintended-discharge", "misfire", "injury", "near-miss", "safety-concern", "missing"
]
INCIDENT_KINDS: tuple[str, ...] = get_args(IncidentKind)

# Kinds that put the whole day on HOLD until a supervisor and the armorer sign a review.
HOLDING_KINDS = ("unintended-discharge", "misfire", "injury", "safety-concern", "missing")

INCIDENT_TITLES: dict[str, str] = {
    "unintended-discharge": "Unintended discharge",
    "misfire": "Misfire",
    "injury": "Injury",
    "near-miss": "Near miss",
    "safety-concern": "Safety concern",
    "missing": "Firearm or ammunition unaccounted for",
}
