"""Incident kinds and what each one does to the day (pure data)."""

from typing import Literal, get_args

IncidentKind = Literal[
    "unintended-discharge",
    "misfire",
    "injury",
    "near-miss",
    "safety-concern",
    "missing",
    "live-round",
]
INCIDENT_KINDS: tuple[str, ...] = get_args(IncidentKind)

# Kinds that put the whole day on HOLD until a supervisor and the armorer sign a review.
# A live or unidentified round found at any check is one of them: rounds come from shared boxes,
# so it holds every firearm's work that day, not only the run that found it.
HOLDING_KINDS = (
    "unintended-discharge",
    "misfire",
    "injury",
    "safety-concern",
    "missing",
    "live-round",
)

INCIDENT_TITLES: dict[str, str] = {
    "unintended-discharge": "Unintended discharge",
    "misfire": "Misfire",
    "injury": "Injury",
    "near-miss": "Near miss",
    "safety-concern": "Safety concern",
    "missing": "Firearm or ammunition unaccounted for",
    "live-round": "Live or unidentified round found",
}

# Kinds after which firearm work resumes only after a fresh safety meeting, held once the
# review is signed (a misfire, a discharge, a live or unidentified round).
MEETING_AFTER_KINDS = ("misfire", "unintended-discharge", "live-round")
