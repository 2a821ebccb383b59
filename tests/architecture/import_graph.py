"""The import graph of a package tree, read from its source with `ast` (nothing is imported).

Every import statement counts wherever it stands: module level, in a function, under
`if TYPE_CHECKING:`; relative imports are resolved against the importing module's package.
"""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("myna_reader.daemon", "myna_reader.drivers", "myna_reader.ui", "myna_reader.fixtures")
DAEMON_LAYERS = ("engine", "store", "link", "face", "update", "runtime", "harness", "cli")
BASE = ("myna_reader.daemon", "myna_reader.daemon.version", "myna_reader.daemon.errors")
# hw-fixtures' scripts that drive the whole daemon to record transcripts stand with the CLI
FIXTURE_SCRIPTS = ("myna_reader.fixtures.record_transcripts",)


def layer_of(module: str) -> str | None:
    """The layer of a module of myna_reader (docs/architecture.md), None if it has none."""
    parts = module.split(".")
    if module in FIXTURE_SCRIPTS:
        return "cli"
    if parts[:2] == ["myna_reader", "drivers"]:
        return "drivers"
    if parts[:2] == ["myna_reader", "fixtures"]:
        return "fixtures"
    if parts[:2] == ["myna_reader", "ui"]:
        return "ui"
    if module in BASE:
        return "base"
    if parts[:2] == ["myna_reader", "daemon"] and len(parts) > 2 and parts[2] in DAEMON_LAYERS:
        return parts[2]
    return None


@dataclass
class Graph:
    paths: dict[str, Path] = field(default_factory=dict)  # module -> its file
    edges: dict[str, dict[str, int]] = field(default_factory=dict)  # module -> target -> line
    external: dict[str, set[str]] = field(default_factory=dict)  # module -> foreign imports

    @property
    def modules(self) -> list[str]:
        return sorted(self.paths)

    def reachable(self, start: str) -> set[str]:
        seen, todo = {start}, [start]
        while todo:
            for target in self.edges.get(todo.pop(), {}):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        return seen

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (Tarjan, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []
        counter = 0
        for root in self.modules:
            if root in index:
                continue
            work = [(root, iter(sorted(self.edges.get(root, {}))))]
            index[root] = low[root] = counter
            counter += 1
            stack.append(root)
            on_stack.add(root)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is None:
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
                            found.append(sorted(component))
                elif child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(self.edges.get(child, {})))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
        return found


def installed_roots() -> dict[str, Path]:
    """Where the installed package's parts live (the import system's own answer)."""
    roots = {}
    for name in PACKAGES:
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.submodule_search_locations, name
        roots[name] = Path(next(iter(spec.submodule_search_locations)))
    return roots


def load_graph(roots: dict[str, Path] | None = None) -> Graph:
    graph = Graph()
    for package, folder in (roots or installed_roots()).items():
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).with_suffix("").parts
            if relative[-1] == "__init__":
                relative = relative[:-1]
            graph.paths[".".join((package, *relative))] = path
    for module, path in graph.paths.items():
        is_package = path.name == "__init__.py"
        edges: dict[str, int] = {}
        external: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            for target in _targets(node, module, is_package, graph.paths):
                if target.startswith("myna_reader."):
                    if target != module:
                        edges.setdefault(_known(target, graph.paths), getattr(node, "lineno", 0))
                else:
                    external.add(target)
        graph.edges[module] = edges
        graph.external[module] = external
    return graph


def _targets(node: ast.AST, module: str, is_package: bool,
             known: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        base = package[: len(package) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    # `from package import submodule` imports the submodule; any other name, the package
    return [f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source
            for alias in node.names]


def _known(target: str, known: dict[str, Path]) -> str:
    """The longest prefix of `target` that is a module of the tree."""
    parts = target.split(".")
    while parts and ".".join(parts) not in known:
        parts.pop()
    return ".".join(parts) if parts else target
