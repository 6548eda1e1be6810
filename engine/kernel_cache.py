"""Where numba keeps compiled kernels: a cache folder outside the source tree.

numba's `cache=True` writes next to the source file by default (`__pycache__` inside the
package), which dirties a checkout and is lost with it. Every DLPE package that compiles
kernels points numba at `$DLPE_CACHE_DIR/numba` instead, where `$DLPE_CACHE_DIR` defaults
to `$XDG_CACHE_HOME/dlpe` (`~/.cache/dlpe`), the folder that also holds proving keys and
solc artifacts. An explicit `NUMBA_CACHE_DIR` is respected.
"""

from __future__ import annotations

import os
from pathlib import Path

import numba  # engine's kernels need it anyway


def dlpe_cache_folder() -> Path:
    """$DLPE_CACHE_DIR, else $XDG_CACHE_HOME/dlpe, else ~/.cache/dlpe (not created here)."""
    if explicit := os.environ.get("DLPE_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlpe"


def use_kernel_cache_folder() -> None:
    """Point numba's on-disk kernel cache at the DLPE cache folder; call before any @njit(cache=True)."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        numba.config.CACHE_DIR = str(dlpe_cache_folder() / "numba")
