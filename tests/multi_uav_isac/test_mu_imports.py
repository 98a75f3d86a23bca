"""Issue 10 item 7: the baselines of multi_uav_isac form an acyclic import graph (module-level and
function-level imports alike), and each module imports alone in a fresh interpreter."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PKG = "baselines.multi_uav_isac"
PKG_DIR = Path(__file__).resolve().parents[2] / "baselines" / "multi_uav_isac"
MODULES = sorted(p.stem for p in PKG_DIR.glob("*.py") if p.stem != "__init__")


def _imports(module: str) -> set[str]:
    """Sibling modules imported anywhere in ``module`` (``from PKG.x import``, ``from PKG import x``)."""
    tree = ast.parse((PKG_DIR / f"{module}.py").read_text())
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PKG + "."):
                out.add(node.module.split(".")[2])
            elif node.module == PKG:
                out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.Import):
            out.update(a.name.split(".")[2] for a in node.names if a.name.startswith(PKG + "."))
    return out - {module}


def test_import_graph_is_acyclic():
    graph = {m: _imports(m) for m in MODULES}
    assert "voronoi_iwf" not in graph["power"] and "power" in graph["voronoi_iwf"]
    done, active = set(), []

    def visit(m):
        assert m not in active, f"import cycle: {' -> '.join(active[active.index(m):] + [m])}"
        if m in done:
            return
        active.append(m)
        for dep in graph[m]:
            visit(dep)
        active.pop()
        done.add(m)

    for m in MODULES:
        visit(m)


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone_in_a_fresh_interpreter(module):
    env = {**os.environ, "PYTHONPATH": str(PKG_DIR.parents[1])}
    code = f"import {PKG}.{module} as m; print(m.__name__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{PKG}.{module}"
