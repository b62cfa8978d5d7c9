"""The device_model package stands alone: no import from the station, no cycle among its
modules, no import hidden inside a function."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import device_model

PACKAGE = Path(device_model.__file__).parent


def _modules() -> dict[str, ast.Module]:
    return {
        path.stem: ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(PACKAGE.glob("*.py"))
    }


def _imported(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.module is not None and node.level == 0:
        if node.module == "device_model":  # `from device_model import addressing`
            return [f"device_model.{alias.name}" for alias in node.names]
        return [node.module]
    return []


def test_imports_nothing_from_the_station_or_the_hal() -> None:
    upward = {
        f"{name}: {target}"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        for target in _imported(node)
        if target.split(".")[0] in ("ocpp_station", "hal")
    }
    assert upward == set()


def test_no_function_local_imports() -> None:
    local = [
        f"{name}:{inner.lineno}"
        for name, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        for inner in ast.walk(node)
        if isinstance(inner, ast.Import | ast.ImportFrom)
    ]
    assert local == []


def test_no_import_cycle_between_modules_not_even_for_typing() -> None:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, tree in modules.items():
        deps = set()
        for node in ast.walk(tree):  # includes `if TYPE_CHECKING:` blocks
            for target in _imported(node):
                parts = target.split(".")
                if parts[0] == "device_model" and len(parts) > 1 and parts[1] in modules:
                    deps.add(parts[1])
        graph[name] = deps - {name}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import cycle: {exc.args[1]}") from None
    assert order.index("values") < order.index("definitions_loader") < order.index("model")
    assert order[-1] == "__init__"


def test_every_module_is_at_most_400_lines() -> None:
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in PACKAGE.glob("*.py")}
    assert max(sizes.values()) <= 400, sizes


def test_public_names() -> None:
    assert set(device_model.__all__) <= set(dir(device_model))
    assert {"DeviceModel", "DeviceModelConfigError", "VariableChange", "Clock"} <= set(
        device_model.__all__
    )
    assert (PACKAGE / "py.typed").is_file()
