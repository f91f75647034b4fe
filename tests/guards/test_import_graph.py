"""kilo's import graph has no loop, counting the imports inside functions.

An import inside a function (or under ``if TYPE_CHECKING:``) is still a dependency: it only
moves the moment the other module is loaded, or leaves it to the type checker. A loop closed
that way (a needs b at import time, b needs a when called) means neither module can be
understood, tested or moved without the other, so this test reads every import statement of
every module, wherever it stands, and fails on any loop.

The graph, precisely:

* nodes: the modules of the packages under ``src/``, ``cli/`` and ``server/`` (a package is
  the module of its ``__init__.py``);
* an edge a -> b for every ``import`` / ``from ... import`` statement in a's file naming b:
  at module level, in a class body, inside a function or under ``if TYPE_CHECKING:``,
  alike. ``from p import name`` is an edge to the submodule ``p.name`` when there is one,
  else to the module that defines ``name``: when package ``p`` only presents it (below),
  the edge follows it to where the name is written. ``import p.q`` is an edge to ``p.q``
  (not to the parent ``p`` Python also runs first: that is the package's own business);
* a package *presenting* its parts is not an edge: its ``__init__`` importing names of its
  own submodules that it exports (listed in its ``__all__``, or written ``name as name``),
  its lazy ``__init__.pyi`` stub, and the imports of its own submodules in its module
  ``__getattr__``. Whoever imports such a name depends on the submodule that defines it;
* not edges either: modules imported by a name in a string (``importlib.import_module``:
  the handler and command registries, resolved at run time) and anything outside these
  packages.

A loop is a strongly connected component of more than one module, except a package's
``__init__`` with its own submodules alone (``kilo.catalog`` uses ``Table`` of
``kilo.catalog.table``, which takes a ``Catalog``: one package's parts): a loop through
a package's ``__init__`` that reaches a module outside the package counts.

KNOWN_LOOPS lists the loops not fixed yet; it may only shrink: the test also fails when a
listed loop is gone, so the list stays true.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: the folders holding kilo's packages: the library, the CLI and (once it moves out of the
#: library) the HTTP server
ROOTS = (REPO / "src", REPO / "cli", REPO / "server")

#: loops not fixed yet, each as the set of its modules. It may only shrink: a listed loop
#: that is gone (or has changed) fails the test until it is taken out. Empty since issue 30
#: (the seven loops it found, and two more, were fixed by moving the shared piece).
KNOWN_LOOPS: list[frozenset[str]] = []


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str  # file:line, and the function the import stands in, if any


def _modules() -> dict[str, Path]:
    """Every module of the packages under ROOTS, by dotted name."""
    found: dict[str, Path] = {}
    for root in ROOTS:
        if not root.is_dir():
            continue
        for init in sorted(root.glob("*/__init__.py")):
            for path in sorted(init.parent.rglob("*.py")):
                parts = path.relative_to(root).with_suffix("").parts
                if parts[-1] == "__init__":
                    parts = parts[:-1]
                found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(
    body: list[ast.stmt], function: str | None = None
) -> Iterator[tuple[ast.Import | ast.ImportFrom, str | None]]:
    """Every import statement under ``body``, wherever it stands (in ``if TYPE_CHECKING:``,
    ``try``, a class, a function): (statement, the function it stands in)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node, function
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield from _imports(node.body, node.name)
        else:
            for field in ("body", "orelse", "finalbody", "handlers", "cases"):
                for inner in getattr(node, field, None) or []:
                    stmts = [inner] if isinstance(inner, ast.stmt) else inner.body
                    yield from _imports(stmts, function)


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The module a ``from`` import names, relative imports resolved against ``module``."""
    if node.level == 0:
        return node.module or ""
    package = module if _is_package(module) else module.rpartition(".")[0]
    for _ in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


@cache
def _exported(package: str) -> frozenset[str]:
    """The names in the package's literal ``__all__``."""
    for node in _parse(MODULES[package]).body:
        if isinstance(node, ast.Assign) and [ast.unparse(t) for t in node.targets] == ["__all__"]:
            with contextlib.suppress(ValueError):
                return frozenset(ast.literal_eval(node.value))
    return frozenset()


def _presents(package: str, node: ast.Import | ast.ImportFrom, function: str | None) -> bool:
    """Whether this import of the package's ``__init__`` (of its own submodule) only
    presents the submodule's names: exported ones, or loaded in the module ``__getattr__``."""
    if function == "__getattr__":
        return True
    exported = _exported(package)
    return isinstance(node, ast.ImportFrom) and all(
        a.name in exported or a.asname == a.name for a in node.names
    )


@cache
def _sources(package: str) -> dict[str, tuple[str, str]]:
    """Where the names the package's ``__init__`` (and its lazy ``.pyi`` stub) import come
    from: {name: (module, name there)}."""
    init = MODULES[package]
    out: dict[str, tuple[str, str]] = {}
    for path in (init, init.with_suffix(".pyi")):
        if path.exists():
            for node, _ in _imports(_parse(path).body):
                if isinstance(node, ast.ImportFrom):
                    source = _absolute(package, node)
                    out.update({a.asname or a.name: (source, a.name) for a in node.names})
    return out


def _defining_module(module: str, name: str, seen: frozenset[str] = frozenset()) -> str:
    """The module ``from module import name`` depends on: the submodule ``module.name``, or
    the module that defines ``name`` (through the packages that only import it)."""
    if f"{module}.{name}" in MODULES:
        return f"{module}.{name}"
    if module in seen or not _is_package(module):
        return module
    source = _sources(module).get(name)
    if source is None or source[0] not in MODULES:
        return module
    return _defining_module(source[0], source[1], seen | {module})


def _owning_module(dotted: str) -> str | None:
    """The longest prefix of ``dotted`` that is one of ours (None: a third-party module)."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        if ".".join(parts[:n]) in MODULES:
            return ".".join(parts[:n])
    return None


def _edges_of(module: str) -> Iterator[Edge]:
    path = MODULES[module]
    for node, function in _imports(_parse(path).body):
        where = f"{path.relative_to(REPO)}:{node.lineno}"
        where += f" in {function}()" if function else ""
        if isinstance(node, ast.Import):
            targets = [_owning_module(a.name) for a in node.names]
        else:
            source = _owning_module(_absolute(module, node))
            targets = [source and _defining_module(source, a.name) for a in node.names]
        for target in targets:
            if target is None or target == module:
                continue
            own_part = _is_package(module) and target.startswith(module + ".")
            if own_part and _presents(module, node, function):
                continue
            yield Edge(module, target, where)


def import_graph() -> dict[str, dict[str, Edge]]:
    """{module: {imported module: the first statement importing it}}."""
    graph: dict[str, dict[str, Edge]] = {m: {} for m in MODULES}
    for module in MODULES:
        for edge in _edges_of(module):
            graph[module].setdefault(edge.target, edge)
    return graph


def _one_package(component: frozenset[str]) -> bool:
    """Whether the component is a package's ``__init__`` and its own submodules alone."""
    package = min(component, key=len)
    return _is_package(package) and all(
        m == package or m.startswith(package + ".") for m in component
    )


def loops(graph: dict[str, dict[str, Edge]]) -> list[frozenset[str]]:
    """The loops: strongly connected components (Tarjan's algorithm) of more than one module,
    but for a package's ``__init__`` with its own submodules alone."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = frozenset(stack[stack.index(node) :])
            del stack[stack.index(node) :]
            if len(component) > 1 and not _one_package(component):
                found.append(component)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _describe(graph: dict[str, dict[str, Edge]], component: frozenset[str]) -> str:
    """The loop's modules and every import between them."""
    steps = [
        f"    {e.source} -> {e.target}  ({e.where})"
        for m in sorted(component)
        for target, e in sorted(graph[m].items())
        if target in component
    ]
    return f"  {', '.join(sorted(component))}:\n" + "\n".join(steps)


def test_the_import_graph_has_no_loop() -> None:
    graph = import_graph()
    found = loops(graph)
    new = [c for c in found if c not in KNOWN_LOOPS]
    assert not new, (
        "import loops (move the shared piece where both can import it, or invert the "
        "dependency; an import inside a function does not hide a loop):\n"
        + "\n".join(_describe(graph, c) for c in new)
    )
    gone = [sorted(c) for c in KNOWN_LOOPS if c not in found]
    assert not gone, f"these loops are gone (or changed): take them out of KNOWN_LOOPS: {gone}"


def test_the_graph_counts_what_the_rule_says() -> None:
    """Imports in functions and under TYPE_CHECKING are edges; a lazy package's name leads to
    the module that defines it; a package presenting its parts is no edge; a package with
    its own submodules alone is no loop, but a loop through it to the outside is."""
    graph = import_graph()
    assert len(MODULES) > 100
    # the CLI's commands import the library inside their functions (kilo --help stays light)
    assert "kilo.group.clusters" in graph["kilo_cli.commands.clusters"]
    # `from kilo.group import list_clusters` is a name of the lazy stub: it leads to the module
    assert "kilo.group" not in graph["kilo_cli.commands.clusters"]
    assert not graph["kilo"] and "kilo.group.clusters" not in graph["kilo.group"]
    # kilo.catalog uses kilo.catalog.table (TYPE_CHECKING, in Catalog.table), which takes it
    assert "kilo.catalog.table" in graph["kilo.catalog"]
    assert "kilo.catalog" in graph["kilo.catalog.table"]
    pair = frozenset({"kilo.catalog", "kilo.catalog.table"})
    assert not loops({m: {t: e for t, e in graph[m].items() if t in pair} for m in pair})
    outside = {
        "kilo.catalog": {"kilo.catalog.table": graph["kilo.catalog"]["kilo.catalog.table"]},
        "kilo.catalog.table": {"kilo.text": Edge("kilo.catalog.table", "kilo.text", "")},
        "kilo.text": {"kilo.catalog": Edge("kilo.text", "kilo.catalog", "")},
    }
    assert loops(outside) == [frozenset(outside)]
