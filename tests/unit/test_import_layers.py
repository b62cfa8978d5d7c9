"""The import layers of docs/architecture.md hold: no import cycle anywhere in ocpp_station,
device_model and hal; no edge against the layer table; hal and device_model import nothing of
ocpp_station (nor of each other); no function-local import except a deliberate lazy load marked
``# lazy``.  Imports under ``if TYPE_CHECKING:`` are annotations only and are not counted."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("ocpp_station", "device_model", "hal")
DOC = ROOT / "docs" / "architecture.md"


def layer_table() -> dict[str, int]:
    text = DOC.read_text(encoding="utf-8")
    block = text.split("<!-- layers -->", 1)[1].split("<!-- /layers -->", 1)[0]
    layers: dict[str, int] = {}
    for line in block.splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|(.*)\|\s*$", line)
        if match:
            for name in re.findall(r"`([\w.]+)`", match.group(2)):
                layers[name] = int(match.group(1))
    return layers


def modules() -> dict[str, tuple[Path, ast.Module]]:
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = (path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _targets(node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert node.level == 0, "the packages use absolute imports"
    base = node.module or ""
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    edges: dict[str, set[str]] = {}
    for name, (_, tree) in mods.items():
        out: set[str] = set()
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                # A package's __init__ that runs while one of its modules imports a sibling is
                # already in sys.modules: only the module (or the package, for a name taken
                # from its __init__) is an edge.
                out |= {t for t in _targets(node, known) if t in known}
        edges[name] = out - {name}
    return edges


def rank(module: str, layers: dict[str, int]) -> int | None:
    best = None
    for prefix, layer in layers.items():
        if module == prefix or module.startswith(prefix + "."):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, layer)
    return None if best is None else best[1]


def test_the_layer_table_names_every_station_module() -> None:
    layers = layer_table()
    assert len(set(layers.values())) >= 5
    unplaced = [m for m in modules() if m.startswith("ocpp_station.") and rank(m, layers) is None]
    assert unplaced == [], "add these to the layer table of docs/architecture.md"


def test_no_edge_against_the_layer_order() -> None:
    layers = layer_table()
    upward = []
    for name, targets in graph().items():
        top = name.split(".")[0]
        for target in targets:
            other = target.split(".")[0]
            if top in ("hal", "device_model") and other != top:
                upward.append(f"{name} -> {target} (a bottom library imports {other})")
                continue
            if top != "ocpp_station" or other != "ocpp_station" or target == "ocpp_station":
                continue
            mine, theirs = rank(name, layers), rank(target, layers)
            if mine is not None and theirs is not None and theirs > mine:
                upward.append(f"{name} (layer {mine}) -> {target} (layer {theirs})")
    assert upward == []


def test_no_import_cycle() -> None:
    edges = graph()
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(edges.get(node, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_no_function_local_import_but_marked_lazy_loads() -> None:
    found = []
    for name, (path, tree) in modules().items():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if isinstance(inner, ast.Import | ast.ImportFrom):
                    span = lines[inner.lineno - 1 : (inner.end_lineno or inner.lineno)]
                    if not any("# lazy" in line for line in span):
                        found.append(f"{name}:{inner.lineno}: {ast.unparse(inner)}")
    assert found == []


def test_type_checking_imports_are_only_annotations() -> None:
    """A TYPE_CHECKING block may import upward or sideways, but only for annotations: the
    module must not use the names at run time, so it has ``from __future__ import annotations``."""
    missing = []
    for name, (_, tree) in modules().items():
        if any(_is_type_checking(node) for node in tree.body):
            future = any(
                isinstance(n, ast.ImportFrom) and n.module == "__future__" for n in tree.body
            )
            if not future:
                missing.append(name)
    assert missing == []


def test_every_module_is_a_few_hundred_lines_at_most() -> None:
    long = {
        name: n
        for name, (path, _) in modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > 400
    }
    assert long == {}
