"""numba's kernel cache is keyed by the package's sources: a kernel that inlines a changed function
of another module must not load its stale machine code (numba checks only the kernel's own file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bn254 import cache

ROOT = Path(__file__).resolve().parents[2]


def test_the_folder_changes_with_any_source_file_of_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPE_CACHE_DIR", str(tmp_path / "cache"))
    package = tmp_path / "kernels"
    package.mkdir()
    (package / "field.py").write_text("def add(a, b):\n    return a + b\n")
    (package / "msm.py").write_text("from kernels.field import add\n")
    before = cache.kernel_cache_folder(package / "msm.py")
    assert before == cache.kernel_cache_folder(package / "field.py")  # one folder per package
    assert before.parent == tmp_path / "cache" / "numba" and before.name.startswith("kernels-")

    (package / "field.py").write_text("def add(a, b):\n    return (a + b) % 7\n")  # only the inlined callee
    cache._sources_digest.cache_clear()
    assert cache.kernel_cache_folder(package / "msm.py") != before


def test_each_package_decorates_in_its_own_folder_whatever_the_import_order(tmp_path):
    """engine points numba elsewhere between two fast-backend imports: the later module still
    caches its kernels under prover/backends' folder."""
    script = (
        "import numba, prover.backends.fast_field, prover.backends.fast_groups, engine, prover.backends.fast_msm as m\n"
        "from bn254.cache import kernel_cache_folder\n"
        "from engine.kernel_cache import kernel_cache_folder as engine_folder\n"
        "assert m.signed_digits._cache._cache_path.startswith(str(kernel_cache_folder(m.__file__))), m.signed_digits._cache._cache_path\n"
        "import engine.bsm as b\n"
        "kernel = next(v for v in vars(b).values() if hasattr(v, '_cache') and hasattr(v._cache, '_cache_path'))\n"
        "assert kernel._cache._cache_path.startswith(str(engine_folder())), kernel._cache._cache_path\n"
        "print('ok')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"} | {"DLPE_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
