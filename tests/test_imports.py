"""The package's import graph: no cycle, every module imports on its own, the contracts hold.

The graph comes from grimp (import-linter's engine): every ``import`` in
``src/wugan``, including those inside functions, except under
``if TYPE_CHECKING:`` (they never run). The contracts themselves (engines
import no case store and no pipeline) live in pyproject.toml's
``[tool.importlinter]``; ``make lint`` checks them too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "wugan"


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan), each a cycle of imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if imported not in index:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], index[imported])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("wugan", exclude_type_checking_imports=True, cache_dir=None)


def _module_names() -> set[str]:
    names = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:  # Alembic's scripts, loaded by file path
            continue
        parts = path.relative_to(SRC.parent).with_suffix("").parts
        names.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_the_graph_covers_every_module(graph):
    # a folder without __init__.py would drop its modules (and their imports) from the graph
    assert _module_names() == set(graph.modules)


def test_no_import_cycle(graph):
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" ↔ ".join(group) for group in found)


def test_the_cycle_finder_finds_a_cycle():
    probe = grimp.ImportGraph()
    for importer, imported in [("p.a", "p.b"), ("p.b", "p.c"), ("p.c", "p.a"), ("p.c", "p.d"), ("p.e", "p.e")]:
        probe.add_import(importer=importer, imported=imported)
    assert cycles(probe) == [["p.a", "p.b", "p.c"]]


def test_the_import_contracts_hold():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "KEPT" in done.stdout and "0 broken" in done.stdout


_IMPORT_EACH = """
import importlib, json, sys
failed = {}
for name in json.loads(sys.argv[1]):
    for loaded in [m for m in sys.modules if m == "wugan" or m.startswith("wugan.")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed[name] = f"{type(exc).__name__}: {exc}"
print(json.dumps(failed))
"""


def test_every_module_imports_on_its_own():
    """Each module first, in a fresh set of wugan modules: an import order that a cycle through
    a package's ``__init__`` would break fails here."""
    names = sorted(_module_names() - {"wugan.__main__"})  # __main__ runs the command
    done = subprocess.run([sys.executable, "-c", _IMPORT_EACH, json.dumps(names)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {}
