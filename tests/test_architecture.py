"""The package's shape holds: layers import downwards only, no import cycles, no private names across modules.

The layers (ARCHITECTURE.md): ``data`` and ``stats`` at the bottom, the analyses (every other top-level module
or package that is not listed below) above them, ``engines`` over the analyses' reference functions, then
``report`` and, on top, ``runner``. An analysis uses another one only through its public face
(``portfolio_kit.clv``, not ``portfolio_kit.clv.summary``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import portfolio_kit

PACKAGE = Path(portfolio_kit.__file__).parent
#: Layer of each top-level name that is not an analysis, and the layers each may import.
LAYERS = {"data": 0, "stats": 0, "engines": 2, "report": 3, "runner": 4}
ANALYSES = 1
ALLOWED = {0: set(), ANALYSES: {0, ANALYSES}, 2: {0, ANALYSES}, 3: {0, ANALYSES, 2}, 4: {0, ANALYSES, 2, 3, 4}}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = ["portfolio_kit", *path.relative_to(PACKAGE).with_suffix("").parts]
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _imports(name: str, path: Path) -> list[tuple[str, str, int]]:
    """``(module imported, name taken from it or "", line)`` for every import of the package's own code,
    at module level or inside functions."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(a.name, "", node.lineno) for a in node.names if a.name.startswith("portfolio_kit")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if _is_package(name) else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("portfolio_kit"):
                continue
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.append((sub, "", node.lineno) if sub in MODULES else (target, alias.name, node.lineno))
    return out


def _layer(name: str) -> tuple[int, str]:
    """(layer, top-level part) of a module; the package's own ``__init__`` sits with the runner."""
    parts = name.split(".")
    if len(parts) == 1 or parts[1] in ("__main__",):
        return 4, parts[-1]
    return LAYERS.get(parts[1], ANALYSES), parts[1]


def test_layers_import_downwards_only():
    wrong = []
    for name, path in MODULES.items():
        layer, top = _layer(name)
        for target, _, line in _imports(name, path):
            other, other_top = _layer(target)
            if other_top == top or target == "portfolio_kit":
                continue
            if other not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}")
            elif layer == other == ANALYSES and len(target.split(".")) > 2:
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {target}: another analysis "
                             f"only through its public face portfolio_kit.{other_top}")
    assert not wrong, "imports against the layers:\n" + "\n".join(wrong)


def test_no_private_names_across_modules():
    wrong = []
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        modules_bound = {}
        for target, taken, line in _imports(name, path):
            if taken.startswith("_") and not taken.startswith("__"):
                wrong.append(f"{path.relative_to(PACKAGE.parent)}:{line} takes {taken} from {target}")
        for node in ast.walk(tree):  # module._private after `from portfolio_kit import module`
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    modules_bound[alias.asname or alias.name] = alias.name
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                    and node.value.id in modules_bound and node.attr.startswith("_")
                    and not node.attr.startswith("__")):
                module = next((m for m in MODULES if m.endswith("." + modules_bound[node.value.id])), None)
                if module is not None:
                    wrong.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} uses "
                                 f"{node.value.id}.{node.attr}")
    assert not wrong, "private names used across modules:\n" + "\n".join(wrong)


def test_no_import_cycles():
    graph = {name: {t for t, _, _ in _imports(name, path) if t in MODULES and t != name}
             for name, path in MODULES.items()}
    # a package's __init__ re-exports its own modules: an import of the package from inside it is not a cycle
    for name in graph:
        graph[name] = {t for t in graph[name] if not (name.startswith(t + ".") and _is_package(t))}
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
                cycles.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_rules_catch_what_they_should(tmp_path):
    """The checks themselves: a relative import resolves, a private name is seen."""
    found = _imports("portfolio_kit.clv.bgnbd", MODULES["portfolio_kit.clv.bgnbd"])
    assert ("portfolio_kit.clv.base", "", 31) in found or any(t == "portfolio_kit.clv.base" for t, _, _ in found)
    assert _layer("portfolio_kit.report.plots.clv") == (3, "report")
    assert _layer("portfolio_kit.churn.model") == (ANALYSES, "churn")
