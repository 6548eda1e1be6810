"""Where numba keeps compiled kernels: a cache folder outside the source tree.

numba's `cache=True` writes next to the source file by default (`__pycache__` inside the
package), which dirties a checkout and is lost with it. Every DLPE package that compiles
kernels points numba at a folder under `$DLPE_CACHE_DIR/numba` instead (named by a digest of the
package's sources), where `$DLPE_CACHE_DIR` defaults
to `$XDG_CACHE_HOME/dlpe` (`~/.cache/dlpe`), the folder that also holds proving keys and
solc artifacts. An explicit `NUMBA_CACHE_DIR` is respected.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba  # engine's kernels need it anyway


def dlpe_cache_folder() -> Path:
    """$DLPE_CACHE_DIR, else $XDG_CACHE_HOME/dlpe, else ~/.cache/dlpe (not created here)."""
    if explicit := os.environ.get("DLPE_CACHE_DIR"):
        return Path(explicit)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dlpe"


def kernel_cache_folder() -> Path:
    """`<cache>/numba/engine-<digest of engine's .py files>`: numba checks a cached kernel against
    its own source file only, so a kernel inlining a changed function of another module would load
    stale code; keying the folder by every source file of the package makes any edit compile afresh."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return dlpe_cache_folder() / "numba" / f"engine-{digest.hexdigest()[:16]}"


def use_kernel_cache_folder() -> None:
    """Point numba's on-disk kernel cache at kernel_cache_folder() (unless the user set
    NUMBA_CACHE_DIR); call right before engine's kernels are decorated."""
    if not os.environ.get("NUMBA_CACHE_DIR"):
        numba.config.CACHE_DIR = str(kernel_cache_folder())
