"""``python -m safetyapp.store.verify_child PATH``: verify a store in a separate process and print
the result as one JSON object (chain and replay, see
``repository.verify_replayed``). The audit screen uses it so the full chain check runs on another
core instead of competing with the interface for the interpreter lock.

``python -m safetyapp.store.verify_child --checkpoint PATH SEQ HASH``: check the checkpoint beside
the store (tied to event SEQ with HASH) against the fold of the record up to that event, every
event of it replayed through the engine; prints ``{"problem": null}`` when it matches,
``{"problem": "..."}`` when it does not, ``{"error": "..."}`` when the record cannot be read, and
``{"error": "...", "forged": [SEQ, KIND, RULE, DETAIL]}`` when an event of it does not replay
(the store is damaged). The app's background check of the checkpoint it started from."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from safetyapp.store.journal import Journal, StoreError
from safetyapp.store.repository import StoreForged, check_checkpoint, verify_replayed
from safetyapp.store.snapshot import read_saved


def main() -> None:
    if sys.argv[1] == "--checkpoint":
        print(json.dumps(_checkpoint(Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4])))
        return
    try:
        result = verify_replayed(Journal(Path(sys.argv[1])))
    except StoreError as exc:
        print(json.dumps({"error": str(exc)}))
        return
    print(json.dumps(asdict(result)))


def _checkpoint(path: Path, seq: int, digest: str) -> dict[str, Any]:
    saved = read_saved(path)
    if saved is None or saved.mark.seq != seq or saved.mark.hash != digest:
        # Replaced since the app started from it (by a later one the app wrote, or by another
        # file): the one the app started from is gone; say so rather than pass it.
        return {"problem": "the checkpoint was replaced while it was being checked"}
    try:
        return {"problem": check_checkpoint(path, saved)}
    except StoreForged as exc:
        return {"error": str(exc), "forged": [exc.seq, exc.kind, exc.rule, exc.detail]}
    except StoreError as exc:
        return {"error": str(exc)}


if __name__ == "__main__":
    main()
