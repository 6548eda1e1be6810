"""Named crash points for the restart tests, in the manner of TiKV's fail-rs.

The scheduler calls ``failpoint(name)`` at each point where a crash must not lose or double a
batch: ``after_cut`` (the batch is stored), ``mid_proof`` (a proof is running), ``after_broadcast``
(the transaction is sent, its receipt not stored), ``after_receipt`` (the receipt is stored). When
DLPE_FAILPOINTS lists the name (comma-separated), the process exits at once with status 86, as a
kill would leave it: no cleanup, no flush. Unset, a failpoint costs one dictionary lookup.
"""

from __future__ import annotations

import logging
import os

EXIT_STATUS = 86
POINTS = ("after_cut", "mid_proof", "after_broadcast", "after_receipt")


def failpoint(name: str) -> None:
    if name not in POINTS:
        raise KeyError(f"unknown failpoint {name!r}; known: {POINTS}")
    armed = os.environ.get("DLPE_FAILPOINTS", "")
    if armed and name in armed.split(","):
        logging.getLogger("dlpe.failpoint").critical("failpoint hit: exiting", extra={"failpoint": name})
        os._exit(EXIT_STATUS)
