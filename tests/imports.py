"""The import graph of the house as Python runs it at import time, read from the source without importing it.

An edge runs from a module to each module its top-level imports load (the bodies of functions and
`if TYPE_CHECKING:` are not run on import). Importing `a.b.c` loads `a` and `a.b` first, so those are
edges too, except for the packages the importer sits in: they are already being loaded when it runs."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from scripts.layers import LAYERS


def modules(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Each module's dotted name and its file."""
    return {
        ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): path
        for package in packages
        for path in sorted((root / package).rglob("*.py"))
    }


def _loaded(body: list[ast.stmt], name: str, is_package: bool) -> Iterator[str]:
    """The dotted names the statements would import when run, and the names imported from them."""
    for node in body:
        if isinstance(node, ast.If):
            test = node.test
            type_checking = getattr(test, "id", getattr(test, "attr", None)) == "TYPE_CHECKING"
            yield from _loaded(node.orelse if type_checking else node.body + node.orelse, name, is_package)
        elif isinstance(node, ast.Try):
            blocks = [node.body, node.orelse, node.finalbody, *(handler.body for handler in node.handlers)]
            for block in blocks:
                yield from _loaded(block, name, is_package)
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = name.split(".")[: None if is_package else -1]
            parent = base[: len(base) - node.level + 1] if node.level else []
            module = ".".join(parent + ([node.module] if node.module else []))
            yield module
            yield from (f"{module}.{alias.name}" for alias in node.names)  # `from package import module`


def graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module and the modules of the house that importing it loads directly."""
    found = modules(root, packages)
    edges: dict[str, set[str]] = {}
    for name, path in found.items():
        targets: set[str] = set()
        for dotted in _loaded(ast.parse(path.read_text(encoding="utf-8")).body, name, path.name == "__init__.py"):
            parts = dotted.split(".")
            for end in range(1, len(parts) + 1):
                target = ".".join(parts[:end])
                if target in found and not (name == target or name.startswith(target + ".")):
                    targets.add(target)
        edges[name] = targets
    return edges


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The groups of modules that import one another in a circle (Tarjan's strongly connected components)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(edges[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = stack[stack.index(module) :]
            del stack[stack.index(module) :]
            if len(group) > 1:
                found.append(sorted(group))

    for module in sorted(edges):
        if module not in index:
            visit(module)
    return found


def layer(module: str) -> int:
    """The index in LAYERS of the layer that holds the module."""
    found = [
        (len(prefix), index)
        for index, (_, prefixes, _) in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or module.startswith(prefix + ".")
    ]
    if not found:
        raise LookupError(f"{module} is in no layer; add it to tests/imports.py LAYERS")
    return max(found)[1]


def every_import(root: Path, packages: tuple[str, ...]) -> Iterator[tuple[str, str]]:
    """Each module and each module of the house it names in any import: at the top, inside a function, or
    for types only. A layer is about what a module knows of, not only what it loads at start."""
    found = modules(root, packages)
    for name, path in found.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                if target in found and target != name:
                    yield name, target


def upward(root: Path, packages: tuple[str, ...]) -> set[tuple[str, str]]:
    """The imports that point from a layer up to a higher one."""
    return {(source, target) for source, target in every_import(root, packages) if layer(target) > layer(source)}


def every_edge(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    """Each module and every module of the house it names in any import, lazy and type-only ones included:
    a circle there is two modules that each need the other to be understood, loaded at start or not."""
    edges: dict[str, set[str]] = {name: set() for name in modules(root, packages)}
    for source, target in every_import(root, packages):
        edges[source].add(target)
    return edges
