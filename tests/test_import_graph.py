"""The import graph of qcore's services has no cycles.

Imports are read with :mod:`ast` from every module of ``quantum_service``, ``classical_service``
and ``broker``: top-level imports, imports inside functions and ``TYPE_CHECKING`` blocks alike
(a deferred import is still a dependency). ``from package import name`` depends on
``package.name`` when that is a module, else on ``package``; importing ``a.b.c`` also runs the
packages ``a`` and ``a.b``, which count as dependencies of the importer (except its own
enclosing packages).

Two levels are checked: modules, and the subpackages of ``quantum_service`` and ``broker``
(``quantum_service.kernel``, ``quantum_service.contract``, ... and top-level modules such as
``quantum_service.convert``), which must form layers: the driver contract at the bottom, the
kernel and server at the top.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("quantum_service", "classical_service", "broker")
#: Packages whose subpackages must not import each other in a cycle.
LAYERED = ("quantum_service", "broker")


def _modules() -> dict[str, tuple[Path, bool]]:
    """Module name → (file, is a package ``__init__``)."""
    found: dict[str, tuple[Path, bool]] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts.pop()
            found[".".join(parts)] = (path, is_package)
    return found


def _ancestors(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts))}


def import_graph() -> dict[str, set[str]]:
    """Each module's imports of other qcore modules (see the module docstring)."""
    modules = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, (path, is_package) in modules.items():
        package = name if is_package else name.rpartition(".")[0]
        own = _ancestors(name) | {name}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join([*parts, base] if base else parts)
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.append(full if full in modules else base)
            for target in targets:
                resolved = resolve(target)
                if resolved is None or resolved in own:
                    continue
                graph[name].add(resolved)
                graph[name].update(a for a in _ancestors(resolved)
                                   if a in modules and a not in own)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one node (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _describe(graph: dict[str, set[str]], components: Iterable[list[str]]) -> str:
    return "\n".join(f"{c}: " + "; ".join(f"{a} -> {sorted(graph[a] & set(c))}" for a in c)
                     for c in components)


def _subpackage(name: str) -> str:
    return ".".join(name.split(".")[:2])


def test_the_graph_sees_deferred_and_package_imports():
    graph = import_graph()
    # an import inside a function (the kernel's calibration types under TYPE_CHECKING)
    assert "quantum_service.calibration.manager" in graph["quantum_service.kernel.kernel"]
    # importing a submodule runs its package
    assert "quantum_service.contract" in graph["quantum_service.kernel.kernel"]


def test_no_module_imports_itself_through_others():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles among modules:\n" + _describe(graph, found)


def test_subpackages_form_layers():
    graph = import_graph()
    layered: dict[str, set[str]] = {}
    for name, targets in graph.items():
        if name.split(".")[0] not in LAYERED:
            continue
        source = _subpackage(name)
        layered.setdefault(source, set()).update(
            _subpackage(t) for t in targets
            if t.split(".")[0] in LAYERED and _subpackage(t) != source)
    found = cycles(layered)
    assert not found, "import cycles among subpackages:\n" + _describe(layered, found)


def test_the_contract_depends_on_no_driver_kernel_or_calibration_code():
    graph = import_graph()
    contract = {t for name, targets in graph.items()
                if name.startswith("quantum_service.contract") for t in targets}
    allowed = ("quantum_service.contract", "quantum_service.circuits",
               "quantum_service.simulator", "quantum_service.errors")
    assert {t for t in contract if not t.startswith(allowed) and t != "quantum_service"} == set()
