from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from store_testutil import make_store

from safetyapp.store.journal import Journal

WRITER = """
import sys
from pathlib import Path
from safetyapp.store.journal import Journal

path, writer = Path(sys.argv[1]), int(sys.argv[2])
j = Journal.open(path, lock_timeout=60)
for i in range(100):
    j.append([{"kind": "signoff", "writer": writer, "i": i}])
"""


def test_four_processes_append_concurrently(store_path: Path) -> None:
    make_store(store_path, 1)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(store_path), str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for w in range(4)
    ]
    for p in procs:
        _out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
    j = Journal.open(store_path)
    assert j.warnings == []
    appended = j.records()[1:]
    assert len(appended) == 400
    assert j.last_seq == 401
    res = j.verify()
    assert res.ok and res.count == 401
    per_writer: dict[int, list[int]] = defaultdict(list)
    for rec in appended:
        per_writer[rec["writer"]].append(rec["i"])
    assert per_writer == {w: list(range(100)) for w in range(4)}


def test_reader_in_this_process_follows_other_process(store_path: Path) -> None:
    j = make_store(store_path, 1)
    subprocess.run([sys.executable, "-c", WRITER, str(store_path), "7"], check=True, timeout=120)
    new = j.refresh()
    assert len(new) == 100 and j.last_seq == 101
    j.append([{"kind": "after"}])
    assert Journal.open(store_path).verify().ok
