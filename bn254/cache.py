"""The DLPE cache folder: compiled kernels, proving keys and solc artifacts, outside the checkout.

`$DLPE_CACHE_DIR`, else `$XDG_CACHE_HOME/dlpe`, else `~/.cache/dlpe` — the same rule as
`engine.kernel_cache` (engine imports nothing from here, so it states the rule again).
`make clean-cache` removes it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path


def dlpe_cache_folder() -> Path:
    """The folder (not created here); every cached artifact lives in a subfolder named for its kind."""
    if explicit := os.environ.get("DLPE_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlpe"


# NUMBA_CACHE_DIR as the user set it, read before this module ever sets numba's folder itself.
_USER_KERNEL_FOLDER = os.environ.get("NUMBA_CACHE_DIR")


@lru_cache(maxsize=None)
def _sources_digest(package: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(package.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def kernel_cache_folder(module_file: str | Path) -> Path:
    """`<cache>/numba/<package>-<digest of the package's .py files>` for a kernel module's file.

    numba checks a cached kernel against its own source file only: a kernel that inlines a
    changed function of another module would load stale machine code. Keying the folder by every
    source file of the package makes any edit compile afresh."""
    package = Path(module_file).resolve().parent
    return dlpe_cache_folder() / "numba" / f"{package.name}-{_sources_digest(package)}"


def use_kernel_cache_folder(module_file: str | Path) -> None:
    """Point numba's on-disk kernel cache at kernel_cache_folder(module_file), unless the user set
    NUMBA_CACHE_DIR. Call at the top of every module that decorates kernels with cache=True: numba
    reads the folder when it decorates, and another package may have pointed it elsewhere since."""
    if _USER_KERNEL_FOLDER:
        return
    import numba  # the caller decorates kernels next: numba is loaded anyway

    numba.config.CACHE_DIR = str(kernel_cache_folder(module_file))


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in its folder and a rename, so that a
    concurrent reader sees the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
