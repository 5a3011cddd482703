"""The layers of the package (pyproject.toml [tool.importlinter]): arrows point down, the engine is pure,
tillcsv has no database, nothing below the CLI speaks to the terminal. Checked by import-linter from the
code's own imports, function-level ones included."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dialect_free("import-linter's layer contracts: no database")

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept():
    pytest.importorskip("importlinter")
    done = subprocess.run([sys.executable, "-c", "from importlinter.cli import lint_imports_command; "
                           "lint_imports_command()", "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "Contracts: 4 kept, 0 broken." in done.stdout


def test_no_import_circle_at_module_or_function_level():
    """No module imports, at its top or inside a function, a module that imports it back, directly or
    around a circle (a package's ``__init__`` and its own modules included). Imports for type checking
    only are not imports at run time and are left out."""
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("loyaltycli", include_external_packages=False, exclude_type_checking_imports=True)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    # Tarjan's strongly connected components, iteratively: each component of two or more is a circle
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        circles.append(sorted(component))
    assert circles == [], "\n".join(
        " <-> ".join(circle) + ": " + "; ".join(
            f"{a} -> {b} (line {d['line_number']})" for a in circle for b in circle
            if graph.direct_import_exists(importer=a, imported=b)
            for d in graph.get_import_details(importer=a, imported=b)) for circle in circles)
