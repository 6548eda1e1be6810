"""Where the solver keeps what it writes: never in the checkout or the current folder by default.

Data (simulation outputs, the service's job store) goes to the XDG data folder; caches (keys,
kernels, solc artifacts) to the DLPE cache folder of `bn254.cache`.
"""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """DLPE's data folder: $XDG_DATA_HOME/dlpe, or ~/.local/share/dlpe (XDG Base Directory spec)."""
    base = os.environ.get("XDG_DATA_HOME", "")
    # The spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    root = Path(base) if os.path.isabs(base) else Path.home() / ".local" / "share"
    return root / "dlpe"
