"""Record the version guard's figures for the current ANALYSIS_VERSION on this machine's instruction set.

    python -m tests.analysis.update_golden

Writes ``tests/analysis/golden/<ANALYSIS_VERSION>.<instruction set>.json``. When this
instruction set already has figures and they differ, nothing is written: bump
``ANALYSIS_VERSION`` (tracker/analysis/version.py) and re-estimate the MDC table first, so
stored results of the old version are never mixed with new ones. Figures recorded for the
same version on another instruction set must agree within the hardware tolerance, so a
real change cannot be recorded as another CPU's figures.
"""

from __future__ import annotations

import sys

from tracker.analysis import ANALYSIS_VERSION

from .version_guard import (
    differences,
    figures,
    golden_path,
    hardware_differences,
    read_golden,
    recorded_sets,
    write_golden,
)

_BUMP = ("Bump ANALYSIS_VERSION in tracker/analysis/version.py, re-estimate the MDC table "
         "(`tracker mdc-estimate`), then run this again.")


def main() -> int:
    current = figures()
    recorded = read_golden()
    if recorded is not None:
        changed = list(differences(recorded, current))
        if not changed:
            print(f"{golden_path()} is up to date.")
            return 0
        print(f"The figures of analysis version {ANALYSIS_VERSION} would change ({len(changed)} differences, e.g. "
              f"{changed[0]}).\n{_BUMP}", file=sys.stderr)
        return 1
    if recorded_sets():
        changed = hardware_differences(current)
        if changed:
            print(f"The figures of analysis version {ANALYSIS_VERSION} differ from those recorded on other CPUs "
                  f"beyond what the CPU explains ({len(changed)} differences, e.g. {changed[0]}).\n{_BUMP}",
                  file=sys.stderr)
            return 1
    print(f"Wrote {write_golden(current)}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
