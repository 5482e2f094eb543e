"""The ``safetyapp`` command's entry point (and ``python -m safetyapp``'s).

Before anything heavy is imported, it starts hashing the bytes the store's checkpoint was
folded from (:func:`~safetyapp.store.prefix.start_prefix_digest`: a forked child process on
Linux, else a thread), so that the hashing runs on another core while the command imports
Textual, pydantic and the rest (~0.15-0.2 s): at 1,000,000 events the digest of the 538 MB
before the checkpoint takes ~0.15 s of one core (BLAKE3), which the command otherwise waited
for when it opened the store. Only a head start: the open still compares the digest with the checkpoint's, and takes
the head start only for the same bytes of the same file. Then the CLI (:func:`safetyapp.cli.main`).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from safetyapp.paths import resolve_store
from safetyapp.store.prefix import start_prefix_digest

_GROUP_FLAGS = {"--read-only"}  # the group's options that take no value (see safetyapp.cli.cli)


def store_named(argv: Sequence[str]) -> Path | None:
    """The store the command line would open (--db before the command, else $SAFETYAPP_DB,
    else the default), or None when it asks for help or the version, or cannot be read here
    (the CLI itself then says what is wrong)."""
    explicit: str | None = None
    args = list(argv)
    while args and args[0].startswith("-"):
        arg = args.pop(0)
        if arg == "--db":
            if not args:
                return None
            explicit = args.pop(0)
        elif arg.startswith("--db="):
            explicit = arg.removeprefix("--db=")
        elif arg not in _GROUP_FLAGS:
            return None  # --help, --version, or anything the CLI will refuse
    if any(arg in ("-h", "--help") for arg in args):
        return None
    return resolve_store(explicit)[0]


def read_ahead(argv: Sequence[str]) -> None:
    """Start hashing the checkpoint prefix of the store this command line names, if any."""
    store = store_named(argv)
    if store is not None:
        start_prefix_digest(store)


def main() -> None:
    read_ahead(sys.argv[1:])
    from safetyapp.cli import main as cli_main

    cli_main()
