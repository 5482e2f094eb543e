"""``python -m safetyapp.store.verify_child PATH``: verify a store in a separate process and print
the result as one JSON object (chain and replay, see
``repository.verify_replayed``). The audit screen uses it so the full chain check runs on another
core instead of competing with the interface for the interpreter lock."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

from safetyapp.store.journal import Journal, StoreError
from safetyapp.store.repository import verify_replayed


def main() -> None:
    try:
        result = verify_replayed(Journal(Path(sys.argv[1])))
    except StoreError as exc:
        print(json.dumps({"error": str(exc)}))
        return
    print(json.dumps(asdict(result)))


if __name__ == "__main__":
    main()
