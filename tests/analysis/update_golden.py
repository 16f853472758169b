"""Record the version guard's figures for the current ANALYSIS_VERSION.

    python -m tests.analysis.update_golden

Writes ``tests/analysis/golden/<ANALYSIS_VERSION>.json``. When that version already has
figures and they differ, nothing is written: bump ``ANALYSIS_VERSION``
(tracker/analysis/version.py) and re-estimate the MDC table first, so stored results
of the old version are never mixed with new ones.
"""

from __future__ import annotations

import sys

from tracker.analysis import ANALYSIS_VERSION

from .version_guard import differences, figures, golden_path, read_golden, write_golden


def main() -> int:
    current = figures()
    recorded = read_golden()
    if recorded is not None:
        changed = list(differences(recorded, current))
        if not changed:
            print(f"{golden_path()} is up to date.")
            return 0
        print(f"The figures of analysis version {ANALYSIS_VERSION} would change ({len(changed)} differences, e.g. "
              f"{changed[0]}).\nBump ANALYSIS_VERSION in tracker/analysis/version.py, re-estimate the MDC table "
              "(`tracker mdc-estimate`), then run this again.", file=sys.stderr)
        return 1
    print(f"Wrote {write_golden(current)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
