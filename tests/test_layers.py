"""Imports run one way: the app (command line, in-process runner) reads orchestration, which
reads the core library (salesops, ingest, expectations); no module imports a layer above its
own. The dev kit (demo generator, vendor stand-ins) serves the app's demo commands, the tests
and the benchmarks; no product module below the app imports it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("salesops", "ingest", "expectations", "orchestration", "devkit")
APP = ("orchestration.cli", "orchestration.runner")
DEVKIT = ("devkit",)
# higher imports lower; the dev kit sits beside the app, on top of the core
RANK = {"core": 0, "orchestration": 1, "devkit": 2, "app": 3}


def layer(module: str) -> str | None:
    """The layer of a dotted module name, or None for a module outside the product."""

    def within(prefixes: tuple[str, ...]) -> bool:
        return any(module == p or module.startswith(p + ".") for p in prefixes)

    if within(APP):
        return "app"
    if within(DEVKIT):
        return "devkit"
    if within(("orchestration",)):
        return "orchestration"
    if within(("salesops", "ingest", "expectations")):
        return "core"
    return None


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports (at the top or inside a function), absolute names."""
    package = module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else None
    package = package or module_name(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import mod`` imports the module pkg.mod when there is one
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def upward_imports() -> list[str]:
    wrong = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            own = layer(module_name(path))
            for line, target in imports(path):
                theirs = layer(target)
                if own and theirs and RANK[theirs] > RANK[own]:
                    where = f"{path.relative_to(ROOT)}:{line}"
                    wrong.append(f"{where} ({own}) imports {target} ({theirs})")
    return wrong


def test_no_module_imports_a_layer_above_its_own():
    assert upward_imports() == []


def test_the_check_sees_an_upward_import(tmp_path, monkeypatch):
    """The check itself: a core module importing the runner is reported."""
    core = tmp_path / "salesops"
    core.mkdir()
    (core / "knot.py").write_text("def f():\n    from orchestration import runner\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert upward_imports() == ["salesops/knot.py:2 (core) imports orchestration.runner (app)"]


def test_the_product_package_holds_no_generator_or_stand_in():
    assert not (ROOT / "salesops" / "demo").exists()
    assert not (ROOT / "salesops" / "standins").exists()
    assert (ROOT / "devkit" / "demo" / "generate.py").is_file()
