"""The package's layers (../shared/STYLE.md): nothing in a lower layer imports a higher one.

core (pure numerics) < io < models < train, report < workflows < cli. Checked two ways: every
``cmrseg`` import in every module (module level and inside functions, except ``TYPE_CHECKING``
blocks) against the layer table, and the pure core imported in a fresh interpreter without
torch, matplotlib, albumentations or ``cmrseg.io`` being loaded.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "cmrseg"

#: module prefix -> layer; the longest matching prefix decides
LAYERS: dict[str, int] = {
    "cmrseg": 0,  # the package itself (lazy API, __version__)
    "cmrseg.labels": 0,
    "cmrseg.image": 0,
    "cmrseg.geometry": 0,
    "cmrseg.masks": 0,
    "cmrseg.metrics": 0,
    "cmrseg.contours": 0,
    "cmrseg.function": 0,
    "cmrseg.aha": 0,
    "cmrseg.agreement": 0,
    "cmrseg.evaluate": 0,
    "cmrseg.qc": 0,
    "cmrseg.preprocess": 0,
    "cmrseg.augment": 0,
    "cmrseg.guide": 0,
    "cmrseg.mapping": 0,
    "cmrseg.io": 1,
    "cmrseg.models": 2,
    "cmrseg.device": 2,
    "cmrseg.losses": 2,
    "cmrseg.predict": 2,
    "cmrseg.series_segmentation": 2,
    "cmrseg.train": 3,
    "cmrseg.report": 3,
    "cmrseg.workflows": 4,
    "cmrseg.cli": 5,
}
NAMES = {0: "core", 1: "io", 2: "models", 3: "train/report", 4: "workflows", 5: "cli"}

#: the numerics: importing them loads none of these
PURE = [
    "cmrseg.labels",
    "cmrseg.image",
    "cmrseg.geometry",
    "cmrseg.masks",
    "cmrseg.metrics",
    "cmrseg.contours",
    "cmrseg.function",
    "cmrseg.aha",
    "cmrseg.agreement",
    "cmrseg.evaluate",
    "cmrseg.qc",
    "cmrseg.preprocess",
    "cmrseg.guide",
    "cmrseg.mapping",
    "cmrseg.mapping.models",
    "cmrseg.mapping.fitter",
    "cmrseg.mapping.fits",
    "cmrseg.mapping.ecv",
    "cmrseg.mapping.maps",
    "cmrseg.mapping.registration",
    "cmrseg.mapping.series",
]
HEAVY = ["torch", "matplotlib", "albumentations", "monai", "lightning", "cmrseg.io", "nibabel", "pydicom"]


def layer(module: str) -> int:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        if ".".join(parts[:k]) in LAYERS:
            return LAYERS[".".join(parts[:k])]
    raise KeyError(f"{module} is in no layer of tests/test_layers.py: add it")


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _type_checking_blocks(tree: ast.AST) -> set[int]:
    """ids of the import nodes inside ``if TYPE_CHECKING:`` (annotations only, never executed)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and getattr(node.test, "id", getattr(node.test, "attr", "")) == "TYPE_CHECKING":
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def cmrseg_imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    skip = _type_checking_blocks(tree)
    found = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "cmrseg"]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cmrseg":
            found.append((node.lineno, node.module))
    return found


MODULES = sorted(SRC.rglob("*.py"))


def test_every_module_has_a_layer():
    assert len(MODULES) > 60
    for path in MODULES:
        layer(module_name(path))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_a_higher_layer(path: Path):
    me = module_name(path)
    mine = layer(me)
    bad = [
        f"{path.name}:{line} imports {target} ({NAMES[layer(target)]}) from {NAMES[mine]}"
        for line, target in cmrseg_imports(path)
        if layer(target) > mine
    ]
    # train and report share a layer but do not use each other
    side = {"cmrseg.train": "cmrseg.report", "cmrseg.report": "cmrseg.train"}
    for prefix, other in side.items():
        if me.startswith(prefix):
            bad += [f"{path.name}:{line} imports {t}" for line, t in cmrseg_imports(path) if t.startswith(other)]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_imports_inside_functions(tmp_path: Path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from cmrseg.workflows.study import run_study\n")
    assert [t for _, t in cmrseg_imports(probe)] == ["cmrseg.workflows.study"]
    assert layer("cmrseg.workflows.study") > layer("cmrseg.aha")


def test_pure_core_loads_no_heavy_module():
    code = (
        "import importlib, sys\n"
        f"for m in {PURE!r}: importlib.import_module(m)\n"
        f"print(','.join(h for h in {HEAVY!r} if h in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"importing the pure core loaded: {out}"


def _import_graph() -> dict[str, set[str]]:
    """module -> the cmrseg modules it imports (anywhere in it), packages' lazy ``cmrseg`` API left out."""
    mods = {module_name(p): p for p in MODULES}

    def resolve(target: str) -> str:
        while target and target not in mods:
            target = target.rsplit(".", 1)[0] if "." in target else ""
        return target

    return {m: {resolve(t) for _, t in cmrseg_imports(p)} - {m, "", "cmrseg"} for m, p in mods.items()}


def test_no_import_cycle():
    graph, cycles = _import_graph(), []

    def visit(node: str, path: list[str], done: set[str]) -> None:
        for nxt in sorted(graph[node]):
            if nxt in path:
                cycles.append(path[path.index(nxt) :] + [nxt])
            elif nxt not in done:
                visit(nxt, [*path, nxt], done)
        done.add(node)

    done: set[str] = set()
    for start in sorted(graph):
        if start not in done:
            visit(start, [start], done)
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c) for c in cycles[:5])
