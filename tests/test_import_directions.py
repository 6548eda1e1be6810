"""The dependency arrows of DESIGN.md, checked on the source: each package imports only the packages
below it (imports inside functions count too), so that a layer can be used and tested without the
layers above it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bn254", "engine", "circuits", "prover", "verifier_contracts", "solver", "study")
ALLOWED = {
    "bn254": set(),
    "engine": set(),
    "circuits": {"engine", "bn254"},
    "prover": {"bn254"},
    "verifier_contracts": {"prover", "bn254"},
    "solver": {"verifier_contracts", "prover", "circuits", "engine", "bn254"},
    "study": {"solver", "verifier_contracts", "prover", "circuits", "engine", "bn254"},
}


def imported_packages(path: Path) -> set[str]:
    """The project packages a module imports, by top-level name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_the_packages_below_it(package):
    wrong = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        upward = imported_packages(path) - ALLOWED[package] - {package}
        if upward:
            wrong[str(path.relative_to(ROOT))] = sorted(upward)
    assert not wrong, f"{package} imports packages above it (DESIGN.md): {wrong}"


def test_the_check_sees_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from study.backtest import run_study\n    import solver.cli\n")
    assert imported_packages(module) == {"study", "solver"}
