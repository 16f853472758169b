"""A figure may change only together with ANALYSIS_VERSION (and the MDC table estimated for it)."""

from __future__ import annotations

from tracker.analysis import ANALYSIS_VERSION

from .version_guard import (
    UPDATE,
    differences,
    figures_in_a_fresh_process,
    golden_path,
    hardware_differences,
    read_golden,
    recorded_sets,
)

_BUMP = ("If the change is meant: bump ANALYSIS_VERSION in tracker/analysis/version.py, re-estimate the MDC table "
         f"(`tracker mdc-estimate`), then run `{UPDATE}` and commit the new golden file.\n"
         "If it is not: find what moved them.\n  ")


def test_figures_change_only_with_the_analysis_version():
    assert recorded_sets(), (
        f"No recorded figures for analysis version {ANALYSIS_VERSION}: run `{UPDATE}` and commit {golden_path()}.")
    fresh = figures_in_a_fresh_process()
    recorded = read_golden()
    if recorded is not None:  # this instruction set's own figures: to 6 digits
        changed = list(differences(recorded, fresh))
    else:  # figures recorded on other CPUs: within what their float kernels move
        changed = hardware_differences(fresh)
    assert not changed, (
        f"{len(changed)} analysis figures changed on the fixed simulated pairs, but ANALYSIS_VERSION is still "
        f"{ANALYSIS_VERSION}. Stored results would silently mix two versions.\n" + _BUMP + "\n  ".join(changed[:40]))
