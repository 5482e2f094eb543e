"""Child process for the CLI figures: ``python -m bench.cli_launch OUT ARGS...`` runs the real
``safetyapp ARGS...`` (its entry point, :func:`safetyapp.launch.main`) and then writes its peak
memory to OUT as JSON (the parent times the whole process, start to exit)."""

from __future__ import annotations

import json
import resource
import sys


def peak_rss_kb() -> int:
    """This process's own peak resident set (VmHWM). Not ru_maxrss: Linux carries that over
    exec from the parent, so a child would report the benchmark's own peak."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    sys.argv = ["safetyapp", *args]
    code: object = 0
    try:
        from safetyapp.launch import main as entry

        entry()
    except SystemExit as exc:
        code = exc.code
    peak_kb = peak_rss_kb()
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"code": code if isinstance(code, int) else (0 if code is None else 1),
                   "peak_kb": peak_kb}, f)  # fmt: skip
    raise SystemExit(code)


if __name__ == "__main__":
    main()
