"""The DLPE cache folder: compiled kernels, proving keys and solc artifacts, outside the checkout.

`$DLPE_CACHE_DIR`, else `$XDG_CACHE_HOME/dlpe`, else `~/.cache/dlpe` — the same rule as
`engine.kernel_cache` (engine imports nothing from here, so it states the rule again).
`make clean-cache` removes it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path


def dlpe_cache_folder() -> Path:
    """The folder (not created here); every cached artifact lives in a subfolder named for its kind."""
    if explicit := os.environ.get("DLPE_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlpe"


def use_kernel_cache_folder() -> None:
    """Point numba's on-disk kernel cache at `<cache>/numba` (unless NUMBA_CACHE_DIR is set)."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    folder = str(dlpe_cache_folder() / "numba")
    if (numba := sys.modules.get("numba")) is not None:
        numba.config.CACHE_DIR = folder
    else:
        os.environ["NUMBA_CACHE_DIR"] = folder  # numba reads it when first imported; no import cost here


def write_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in its folder and a rename, so that a
    concurrent reader sees the old file or the whole new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "wb") as out:
        out.write(data)
    os.replace(tmp, path)
