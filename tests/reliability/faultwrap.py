"""Run the real CLI entry point (`safetyapp.cli.main`) with a storage fault installed.

    SAFETYAPP_FAULT=write:ENOSPC python faultwrap.py --db STORE firearm add ...

The fault targets the --db file (see faults.py).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import faults

if __name__ == "__main__":
    argv = sys.argv[1:]
    store = Path(argv[argv.index("--db") + 1])
    faults.install(os.environ["SAFETYAPP_FAULT"], store, setattr)
    from safetyapp.cli import main

    main(argv)
