"""The house rules, kept by machine (issue 9): layers, lint, types, room sizes, one vocabulary.

Each test names what to do when it fails. The tools read their settings from
pyproject.toml ([tool.ruff], [tool.mypy], [tool.importlinter]).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TRACKER = ROOT / "tracker"
#: A module longer than this holds more than one concept: split it into a package.
MAX_MODULE_LINES = 600
#: The analysis row's states (tracker.models.vocabulary.AnalysisState): written as text there only.
STATE_NAMES = frozenset({"queued", "running", "done", "refused", "failed"})
STATE_VOCABULARY = TRACKER / "models" / "vocabulary.py"


def _tool(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """``python -m tool args`` (or ``python -c code``) on this checkout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, *args] if args[0] == "-c" else [sys.executable, "-m", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _tracker_modules() -> list[Path]:
    return sorted(p for p in TRACKER.rglob("*.py") if "migrations" not in p.parts)


def test_layers_only_import_downwards():
    """analysis imports no web/services/models/storage; services no web or jobs; models no services."""
    script = ("import sys; from importlinter.cli import lint_imports; "
              "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True, no_logo=True))")
    run = _tool("-c", script)
    assert run.returncode == 0, (
        "A layer contract is broken (see [tool.importlinter] in pyproject.toml and docs/ARCHITECTURE.md):\n"
        + run.stdout[-4000:] + run.stderr[-2000:])


def test_ruff_finds_no_defects():
    run = _tool("ruff", "check", "--no-cache", "tracker", "tests")
    assert run.returncode == 0, f"ruff found defects (fix them, or `ruff check --fix`):\n{run.stdout[-6000:]}"


@pytest.mark.slow
def test_mypy_strict_on_analysis_typed_on_services():
    run = _tool("mypy", "--cache-dir", str(ROOT / ".mypy_cache"), timeout=900)
    assert run.returncode == 0, (
        "mypy (strict on tracker/analysis, typed on tracker/services; [tool.mypy] in pyproject.toml):\n"
        + run.stdout[-6000:] + run.stderr[-2000:])


def test_no_module_over_600_lines():
    long = {str(p.relative_to(ROOT)): n for p in _tracker_modules()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, (f"modules over {MAX_MODULE_LINES} lines (one concept per module: split into a package whose "
                      f"__init__ re-exports the public names): {long}")


def _strings(node: ast.AST) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for element in node.elts:
            yield from _strings(element)


def _is_state(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "state"  # a row's (a local ``state`` may be another's)


def state_literals(source: str) -> Iterator[tuple[int, str]]:
    """(line, name) of every analysis state written as text next to a ``state``: compared with it,
    assigned to it, passed as ``state=``, stored under a "state" key or in ``.state.in_(...)``."""
    for node in ast.walk(ast.parse(source)):
        found: list[str] = []
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_is_state(side) for side in sides):
                found += [s for side in sides for s in _strings(side)]
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is not None and any(_is_state(t) for t in targets):
                found += _strings(node.value)
        elif isinstance(node, ast.keyword) and node.arg == "state":
            found += _strings(node.value)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values):
                if isinstance(key, ast.Constant) and key.value == "state":
                    found += _strings(value)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_"
              and _is_state(node.func.value)):
            found += [s for arg in node.args for s in _strings(arg)]
        yield from ((getattr(node, "lineno", 0), s) for s in found if s in STATE_NAMES)


def test_state_rule_sees_every_way_of_writing_a_state_and_nothing_else():
    assert list(state_literals('row.state = "done"')) == [(1, "done")]
    assert list(state_literals('ok = row.state in (AnalysisState.DONE, "refused")')) == [(1, "refused")]
    assert list(state_literals('update(A).values(state="failed")')) == [(1, "failed")]
    assert list(state_literals('badge = {"state": "queued"}')) == [(1, "queued")]
    assert list(state_literals('select(A).where(A.state.in_(("running",)))')) == [(1, "running")]
    assert list(state_literals('kind = "refused"; note = "done"')) == []  # other vocabularies


def test_analysis_states_are_written_as_text_in_one_module_only():
    found = [f"{p.relative_to(ROOT)}:{line}: {name!r}" for p in _tracker_modules() if p != STATE_VOCABULARY
             for line, name in state_literals(p.read_text(encoding="utf-8"))]
    assert not found, ("analysis states written as text (use tracker.models.vocabulary.AnalysisState, and the "
                       "transitions in tracker.services.analysis.states to change one):\n" + "\n".join(found))
