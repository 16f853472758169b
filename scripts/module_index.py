"""Print docs/ARCHITECTURE.md's module index: every module under tracker/ with its docstring's first sentence."""

from __future__ import annotations

import ast
import pathlib
root = pathlib.Path(__file__).resolve().parents[1] / "tracker"
rows = []
for p in sorted(root.rglob("*.py")):
    if "migrations" in p.parts:
        continue
    doc = ast.get_docstring(ast.parse(p.read_text())) or ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    if len(first) > 150:
        first = first[:147].rsplit(" ", 1)[0] + "..."
    mod = ".".join(p.relative_to(root.parent).with_suffix("").parts).removesuffix(".__init__")
    rows.append((mod, first))
for m, d in rows:
    print(f"| `{m}` | {d.replace('|', '/') or '(no docstring)'} |")
