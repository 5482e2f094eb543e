"""``python -m bench``: the performance figures, each beside a reference measured in the same run.

Prints a table and (``--json FILE``) writes a list of objects with ``name``, ``size``,
``median_ms``, ``min_ms``, ``max_ms``, ``reference_name``, ``reference_ms``, ``goal``, ``met``,
``value`` and ``unit`` (a counted figure, such as the handoff's keystrokes; else null).
``--size tiny`` runs every figure on small stores, once or twice: a smoke test, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from bench import figures
from bench.figures import Row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--size", choices=("full", "tiny", "huge"), default="full",
        help="huge: a 1,000,000-event store (built once, ~10 min), the CLI, sign-off and TUI figures",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument(
        "--cache", type=Path, default=Path(".bench-cache"),
        help="where generated stores are kept between runs (default .bench-cache)",
    )  # fmt: skip
    parser.add_argument("--only", help="run only figures whose name contains this text")
    args = parser.parse_args(argv)
    tiny = args.size == "tiny"
    started = time.perf_counter()
    _byte_compile()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="safetyapp-bench-") as tmp:
        plan = figures.plan(tiny=tiny, cache=args.cache, work=Path(tmp), huge=args.size == "huge")
        for name, figure in plan:
            if args.only and args.only not in name:
                continue
            print(f"... {name}", file=sys.stderr, flush=True)
            t = time.perf_counter()
            rows.extend(figure())
            print(f"    {name}: {time.perf_counter() - t:.0f} s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - started
    print(render(rows, tiny=tiny, elapsed=elapsed))
    if args.json:
        args.json.write_text(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
    return 0


def _byte_compile() -> None:
    """The app's modules compiled to bytecode first, as an installed app has them (pip compiles
    at install; Python caches them on first import): a process start then loads them instead of
    compiling every module again, which a machine with PYTHONDONTWRITEBYTECODE set would do on
    every start (~150 ms of the app's start here). The bare Textual app's modules come compiled."""
    import compileall

    import safetyapp

    compileall.compile_dir(Path(safetyapp.__file__).parent, quiet=1)


def machine() -> str:
    cpus = os.cpu_count()
    return (
        f"{platform.system()} {platform.machine()}, {cpus} CPUs, Python {platform.python_version()}"
    )


def render(rows: list[Row], *, tiny: bool, elapsed: float) -> str:
    head = ("figure", "size", "median ms", "min", "max", "value", "reference", "ref ms", "goal",
            "met")  # fmt: skip
    body = [
        (
            r.name,
            f"{r.size:,}" if r.size else "-",
            f"{r.median_ms:.2f}",
            f"{r.min_ms:.2f}",
            f"{r.max_ms:.2f}",
            f"{r.value:g} {r.unit or ''}".strip() if r.value is not None else "-",
            r.reference_name or "-",
            f"{r.reference_ms:.2f}" if r.reference_ms is not None else "-",
            r.goal or "-",
            {True: "yes", False: "NO", None: "-"}[r.met],
        )
        for r in rows
    ]
    widths = [max(len(x[i]) for x in [head, *body]) for i in range(len(head))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(head, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    for row in body:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |")
    goals = [r for r in rows if r.met is not None]
    met = sum(1 for r in goals if r.met)
    lines.append("")
    lines.append(f"{machine()}; {'tiny (smoke) run' if tiny else 'run'} in {elapsed:.0f} s; "
                 f"goals met: {met}/{len(goals)}")  # fmt: skip
    for r in rows:
        if r.note:
            lines.append(f"- {r.name}: {r.note}")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
