"""The hal package stands alone: no module imports ocpp_station (or device_model), there is no
import cycle between hal modules, and every import is at module level."""

from __future__ import annotations

import ast
from pathlib import Path

import hal

ROOT = Path(hal.__file__).parent


def _modules() -> dict[str, ast.Module]:
    result = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        result[name] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return result


def _imported(node: ast.Import | ast.ImportFrom, known: set[str]) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    assert node.level == 0, "hal uses absolute imports"
    base = node.module or ""
    return [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {
        name: {
            target
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
            for target in _imported(node, known)
        }
        for name, tree in modules.items()
    }


def test_hal_imports_nothing_of_the_station() -> None:
    graph = _graph()
    assert "hal.link" in graph and "hal.backends.sim" in graph
    upward = {
        (name, target)
        for name, targets in graph.items()
        for target in targets
        if target.split(".")[0] in ("ocpp_station", "device_model")
    }
    assert upward == set()


def test_no_import_cycle_between_hal_modules() -> None:
    graph = _graph()
    edges = {name: {t for t in targets if t in graph} for name, targets in graph.items()}
    done: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        assert name not in path, f"import cycle: {' -> '.join([*path, name])}"
        if name in done:
            return
        for target in sorted(edges[name]):
            visit(target, [*path, name])
        done.add(name)

    for name in sorted(edges):
        visit(name, [])
    assert done == set(graph)


def test_every_import_is_at_module_level() -> None:
    local = [
        f"{name}:{node.lineno}"
        for name, tree in _modules().items()
        for top in tree.body
        if not isinstance(top, ast.Import | ast.ImportFrom)
        for node in ast.walk(top)
        if isinstance(node, ast.Import | ast.ImportFrom)
    ]
    assert local == []


def test_public_api() -> None:
    expected = {
        "open",
        "register",
        "ChargeController",
        "HalError",
        "Clock",
        "PlugChanged",
        "FaultChanged",
        "IdTokenPresented",
        "MeterReading",
        "PilotStateChanged",
        "ContactorChanged",
        "LockChanged",
    }
    assert expected <= set(hal.__all__)
    assert all(hasattr(hal, name) for name in hal.__all__)
    assert (ROOT / "py.typed").is_file()
