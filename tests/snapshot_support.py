"""The checkpoint file as a forger who read its key would handle it: its body read, changed
and sealed again (the layout: safetyapp.store.snapshot)."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

from safetyapp.store.snapshot import encode, header, key_path, snapshot_path


def body_of(store: Path) -> dict[str, Any]:
    """The snapshot's body (after its seal line): its JSON object, the rows section parsed
    into its view."""
    first, _, data = snapshot_path(store).read_bytes().partition(b"\n")
    length = int(first.split(b" ")[3])
    body: dict[str, Any] = json.loads(data[:length])
    if "closed_runs" in body["view"]:
        body["view"]["closed_runs"]["runs"] = json.loads(data[length + 1 :])
    return body


def forge(store: Path, body: dict[str, Any] | str) -> None:
    """Write a snapshot sealed with this store's key: what only someone who read the key
    file (0600) can do."""
    if isinstance(body, str):
        data, length = body.encode(), len(body.encode())
    else:
        data, length = encode(body)
    key = bytes.fromhex(key_path(store).read_text().strip())
    seal = hmac.new(key, data, hashlib.sha256).hexdigest()
    offset = body["mark"]["offset"] if isinstance(body, dict) else 0
    snapshot_path(store).write_bytes(header(seal, offset, length) + data)


def reseal_unkeyed(store: Path, body: dict[str, Any]) -> None:
    """Write ``body`` under the snapshot's old seal line (its length fixed): a change made
    without the key, whose seal no longer fits."""
    path = snapshot_path(store)
    fmt, seal, offset, _ = path.read_bytes().partition(b"\n")[0].split(b" ")
    data, length = encode(body)
    path.write_bytes(b" ".join([fmt, seal, offset, b"%d" % length]) + b"\n" + data)
