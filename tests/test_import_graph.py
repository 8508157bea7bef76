"""The package's import graph: no circles, function-level imports only where listed.

Every module of ``conn2rnn`` is read with :mod:`ast` (nothing is imported).
An edge ``a -> b`` is an import of module ``b`` by module ``a``: module-level or
inside a function, relative imports resolved, ``from package import name``
counted as an import of the submodule ``package.name`` where ``name`` is one.
Imports under ``if TYPE_CHECKING:`` never run and are left out.

Two graphs must be free of circles:

* every import (module-level and function-level);
* the module-level imports with, for each, the packages it enters from outside
  (importing ``conn2rnn.analysis.maps`` from ``conn2rnn.models`` runs
  ``conn2rnn/analysis/__init__.py`` first), so that the package imports in any
  order.

An import of the package's own modules inside a function is allowed only where
:data:`FUNCTION_LEVEL_ALLOWED` lists it with its reason (or in a package listed in
:data:`UNDER_REWORK`). Optional heavy dependencies (neurogym, neurolib, dask,
optuna, jaxley, ...) are not the package's own modules and stay lazy.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import conn2rnn

PACKAGE = "conn2rnn"
ROOT = Path(conn2rnn.__file__).parent

_BELOW_ANALYSIS = ("a floor below analysis; importing conn2rnn.analysis runs its __init__, which imports "
                   "every analysis (and fitting, models and torch), so the import waits for the one "
                   "function that needs it")

#: (importing module, imported module) -> why the import stays inside a function.
FUNCTION_LEVEL_ALLOWED: dict[tuple[str, str], str] = {
    ("conn2rnn.datasets.hcp_neurolib", "conn2rnn.analysis.timescales"): _BELOW_ANALYSIS,
    ("conn2rnn.datasets.hcp_neurolib", "conn2rnn.analysis.maps"): _BELOW_ANALYSIS,
    ("conn2rnn.fitting.snapshots", "conn2rnn.analysis.topology"): _BELOW_ANALYSIS + " (at module level: a circle "
                                                                  "fitting -> analysis -> fitting)",
    ("conn2rnn.regimes", "conn2rnn.analysis.maps"): _BELOW_ANALYSIS + " (at module level: a circle "
                                                    "regimes -> analysis -> models -> regimes)",
    ("conn2rnn.regimes", "conn2rnn.models._parametrize"): "regimes sit below models (conn2rnn.models imports "
                                                          "regimes); only regime_tau needs the tau helper",
    ("conn2rnn.fitting.search", "conn2rnn.experiments.runners"): "fitting sits below experiments; only "
                                                                 "run_search borrows the runners",
    ("conn2rnn.fitting.search", "conn2rnn.experiments.store"): "fitting sits below experiments; only "
                                                               "run_search borrows the result store",
}

#: The floors of the package (conn2rnn/__init__.py), lowest first: a module-level import
#: reaches the same floor or one below; a reach upwards waits inside a function and is listed above.
FLOORS: tuple[tuple[str, ...], ...] = (
    ("conn2rnn", "conn2rnn._registry", "conn2rnn._validation", "conn2rnn._io", "conn2rnn._toml"),
    ("conn2rnn.graph", "conn2rnn.constraints", "conn2rnn.regimes", "conn2rnn.nulls", "conn2rnn.datasets",
     "conn2rnn.tasks"),
    ("conn2rnn.models",),
    ("conn2rnn.fitting",),
    ("conn2rnn.analysis",),
    ("conn2rnn.experiments", "conn2rnn.plotting"),
    ("conn2rnn.cli",),
)

#: Packages whose internal imports are under rework: every function-level import of theirs is allowed.
UNDER_REWORK: dict[str, str] = {
    "conn2rnn.biophys": "the biophysical family is being rebuilt (models/, tasks/, fitting/ homes); its imports "
                        "are settled with that rework",
}


def _floor(module: str) -> int | None:
    for level, homes in enumerate(FLOORS):
        if any(module == home or (home != PACKAGE and module.startswith(home + ".")) for home in homes):
            return level
    return None


def _under_rework(module: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in UNDER_REWORK)


def _allowed(module: str, target: str) -> bool:
    return (module, target) in FUNCTION_LEVEL_ALLOWED or _under_rework(module)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES: dict[str, Path] = {_module_name(p): p for p in sorted(ROOT.rglob("*.py"))}


def _targets(module: str, is_package: bool, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's own modules an import statement imports."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == PACKAGE]
    if node.level:
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    if target.split(".")[0] != PACKAGE:
        return []
    return [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> list[tuple[str, int, bool]]:
    """``(imported module, line, inside a function)`` for every import ``module`` runs."""
    path = MODULES[module]
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for sub in child.orelse:
                    visit_stmt(sub, in_function)
                continue
            visit_stmt(child, in_function)

    def visit_stmt(child: ast.AST, in_function: bool) -> None:
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            for target in _targets(module, path.name == "__init__.py", child):
                if target in MODULES and target != module:
                    found.append((target, child.lineno, in_function))
        visit(child, in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)))

    visit(ast.parse(path.read_text(encoding="utf-8")), False)
    return found


IMPORTS = {module: _imports(module) for module in MODULES}


def _find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One circle of the directed graph ``edges`` (its modules in order), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    stack: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = dfs(nxt)
                if cycle:
                    return cycle
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(edges):
        if start not in state:
            cycle = dfs(start)
            if cycle:
                return cycle
    return None


def _ancestors(module: str) -> set[str]:
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def test_every_module_is_read():
    assert "conn2rnn.experiments.spec" in MODULES and "conn2rnn.models.protocol" in MODULES
    assert any(IMPORTS.values())


def test_resolution_of_relative_and_submodule_imports():
    spec = {t for t, _, _ in IMPORTS["conn2rnn.experiments.spec"]}
    assert "conn2rnn._toml" in spec  # `from .. import _toml`: the submodule, not the package
    assert "conn2rnn.experiments.sections" in spec  # `from .sections import ...`
    assert "conn2rnn.tasks" in spec  # `from ..tasks import TASKS`: the package


def test_find_cycle_reports_the_circle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": {"c"}}) is None


def test_no_import_circle_counting_function_level_imports():
    edges = {m: {t for t, _, _ in imports} for m, imports in IMPORTS.items()}
    cycle = _find_cycle(edges)
    assert cycle is None, "import circle: " + " -> ".join(cycle)


def test_no_import_circle_through_package_inits_at_module_level():
    edges: dict[str, set[str]] = {}
    for module, imports in IMPORTS.items():
        mine = _ancestors(module)
        for target, _, in_function in imports:
            if not in_function:
                edges.setdefault(module, set()).update((_ancestors(target) - mine) | {target})
    cycle = _find_cycle(edges)
    assert cycle is None, "import circle at module level (package __init__ files included): " + " -> ".join(cycle)


def test_function_level_imports_are_listed_with_a_reason():
    found = {(m, t): line for m, imports in IMPORTS.items() for t, line, in_function in imports if in_function}
    unlisted = sorted(f"{MODULES[m].relative_to(ROOT.parent)}:{line} imports {t} inside a function"
                      for (m, t), line in found.items() if not _allowed(m, t))
    assert not unlisted, ("import these at module level, or list them in FUNCTION_LEVEL_ALLOWED with "
                          "the reason:\n" + "\n".join(unlisted))
    stale = sorted(k for k in FUNCTION_LEVEL_ALLOWED if k not in found)
    assert not stale, f"FUNCTION_LEVEL_ALLOWED lists imports that are gone: {stale}"
    assert all(reason.strip() for reason in [*FUNCTION_LEVEL_ALLOWED.values(), *UNDER_REWORK.values()])
    assert len(FUNCTION_LEVEL_ALLOWED) <= 10, "the allow-list is meant to stay short: fix the layering instead"


def test_every_module_has_a_floor():
    homeless = sorted(m for m in MODULES if _floor(m) is None and not _under_rework(m))
    assert not homeless, f"add these to a floor (FLOORS and the floor plan in conn2rnn/__init__.py): {homeless}"


def test_module_level_imports_never_reach_a_floor_above():
    upward = sorted(f"{m} (floor {_floor(m)}) imports {t} (floor {_floor(t)})"
                    for m, imports in IMPORTS.items() if not _under_rework(m)
                    for t, _, in_function in imports
                    if not in_function and _floor(t) is not None and _floor(t) > _floor(m))
    assert not upward, "module-level imports reaching a floor above:\n" + "\n".join(upward)


def test_the_floor_plan_names_every_folder_and_module():
    plan = conn2rnn.__doc__.split("Floor plan", 1)[1]
    rows = [row for row in plan.splitlines() if re.match(r"\s+\d\s", row)]
    named = {n for row in rows for n in re.findall(r"([A-Za-z_]+(?:\.py|/))", row)}
    present = {p.name + ("/" if p.is_dir() else "") for p in ROOT.iterdir()
               if (p.is_dir() and (p / "__init__.py").exists()) or (p.suffix == ".py" and p.name != "__init__.py")}
    present -= {f"{p.split('.')[1]}/" for p in UNDER_REWORK}
    assert all(f"``{p.split('.')[1]}/``" in plan for p in UNDER_REWORK)
    assert named == present, (f"the floor plan names {sorted(named - present)}, which are not there, "
                              f"and misses {sorted(present - named)}")
    for level, homes in enumerate(FLOORS[1:], start=1):  # the plan and FLOORS agree
        line = next(row for row in rows if row.strip().startswith(f"{level} "))
        assert {h.split(".")[1] for h in homes} == {n.rstrip("/").removesuffix(".py") for n in
                                                     re.findall(r"([A-Za-z_]+(?:\.py|/))", line)}
