"""CSV and JSON exports of audit rows, safe to open in a spreadsheet."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

CSV_FIELDS = (
    "seq", "time", "kind", "by", "role", "run", "step", "result", "note", "data", "prev_hash", "hash",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> str:
    """Text a spreadsheet shows as text: a leading formula character gets a quote in front."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def to_csv(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        cells = []
        for field in CSV_FIELDS:
            value = row.get(field)
            if field == "data":
                value = json.dumps(value or {}, ensure_ascii=False, sort_keys=True)
            cells.append(spreadsheet_safe(value) if field not in ("seq",) else str(value))
        writer.writerow(cells)
    return buf.getvalue()
