"""The job store: batches, their states and the chain deployment, in one SQLite file.

A batch moves   queued -> proving -> proved -> submitted -> accepted
and may end     rejected (with the reason) from any state before accepted.
Every transition is one committed SQLite transaction, written before the action it announces
takes effect outside the process (a transaction's hash and raw bytes are stored before it is
broadcast), so that a restart finds every batch and knows what may already have happened on
chain (solver.service.scheduler.recover reconciles it).
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from circuits.book_batch import BookBatchRequest
from engine import fixed as fx
from engine import fixed_book as fb
from engine.errors import DLPEError
from engine.fixed_quote import PolicyFixed
from engine.fixed_risk import RiskLimitsFixed


class BatchState(Enum):
    QUEUED = "queued"
    PROVING = "proving"
    PROVED = "proved"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def terminal(self) -> bool:
        return self in (BatchState.ACCEPTED, BatchState.REJECTED)


REQUEST_KIND = "book_batch"
"""The kind every stored request carries: a store written before the book vault holds another."""


class StoredRequestUnreadable(DLPEError):
    """A stored request is not a book batch request (a job store of the old single-expiry batches)."""


def request_to_json(request: BookBatchRequest) -> str:
    """JSON of `request`; its chain records (fills or expiry settlements) as their packed integers."""
    d = dataclasses.asdict(request)
    d["fills"] = [fb.pack_record(r) for r in request.fills]
    return json.dumps({"kind": REQUEST_KIND, **d})


def request_from_json(text: str) -> BookBatchRequest:
    d = json.loads(text)
    if d.pop("kind", None) != REQUEST_KIND:
        raise StoredRequestUnreadable("the stored request is not a book batch request: this job store was "
                                      "written by a service of the old vault; start with a fresh --db-path")
    m = d["market"]
    market = fb.BookMarket(m["spot"], m["now"], m["rate"], m["carry"],
                           tuple(fb.ExpirySmile(e["expiry"], fx.SVIFixed(**e["svi"])) for e in m["expiries"]))
    return BookBatchRequest(
        **{**d, "market": market, "policy": PolicyFixed(**d["policy"]),
           "quotes": tuple(fb.QuoteOrder(**q) for q in d["quotes"]),
           "old_book": tuple(fb.BookSlot(**s) for s in d["old_book"]),
           "fills": tuple(fb.unpack_record(r) for r in d["fills"]),
           "limits": RiskLimitsFixed(**d["limits"])})


@dataclass(frozen=True)
class BatchRecord:
    """One row of the store (times are Unix seconds; ``timings`` in seconds per phase)."""

    id: int
    state: BatchState
    nonce: int
    expiry: int
    instruments: tuple[str, ...]
    request: BookBatchRequest
    created: float
    updated: float
    attempts: int
    proof: dict[str, Any] | None
    public_inputs: list[str] | None
    tx_hash: str | None
    raw_tx: str | None
    tx_nonce: int | None
    gas_used: int | None
    block_number: int | None
    error: str | None
    timings: dict[str, float]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    nonce INTEGER NOT NULL,
    expiry INTEGER NOT NULL,
    instruments TEXT NOT NULL,
    request TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    proof TEXT, public_inputs TEXT, tx_hash TEXT, raw_tx TEXT, tx_nonce INTEGER,
    gas_used INTEGER, block_number INTEGER, error TEXT,
    timings TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS deployment (
    chain_id INTEGER PRIMARY KEY,
    addresses TEXT NOT NULL,
    key_fingerprint TEXT NOT NULL
);
"""


class JobStore:
    """SQLite-backed batches (see the module doc); safe to share between threads."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed transition survives a power cut
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, args: tuple) -> int:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                cursor = self._db.execute(sql, args)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return cursor.lastrowid

    def add(self, request: BookBatchRequest, expiry: int, instruments: list[str]) -> int:
        """Store a freshly cut batch as queued (``expiry``: its quotes'); returns its id."""
        now = time.time()
        return self._write(
            "INSERT INTO batches (state, nonce, expiry, instruments, request, created, updated) VALUES (?,?,?,?,?,?,?)",
            (BatchState.QUEUED.value, request.nonce, expiry, json.dumps(instruments), request_to_json(request), now,
             now),
        )

    def update(self, batch_id: int, state: BatchState, **fields: Any) -> None:
        """Move a batch to ``state``, setting ``fields`` (columns of the record) in the same transaction."""
        allowed = {"attempts", "proof", "public_inputs", "tx_hash", "raw_tx", "tx_nonce", "gas_used", "block_number",
                   "error", "timings"}
        unknown = set(fields) - allowed
        if unknown:
            raise KeyError(f"not batch columns: {sorted(unknown)}")
        encoded = {k: json.dumps(v) if k in ("proof", "public_inputs", "timings") and v is not None else v
                   for k, v in fields.items()}
        sets = ", ".join(["state = ?", "updated = ?", *(f"{k} = ?" for k in encoded)])
        self._write(f"UPDATE batches SET {sets} WHERE id = ?",
                    (state.value, time.time(), *encoded.values(), batch_id))

    def get(self, batch_id: int) -> BatchRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        return None if row is None else _record(row)

    def recent(self, limit: int = 50) -> list[BatchRecord]:
        with self._lock:
            rows = self._db.execute("SELECT * FROM batches ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_record(r) for r in rows]

    def unfinished(self) -> list[BatchRecord]:
        """Batches not yet accepted or rejected, oldest first."""
        done = (BatchState.ACCEPTED.value, BatchState.REJECTED.value)
        with self._lock:
            rows = self._db.execute("SELECT * FROM batches WHERE state NOT IN (?, ?) ORDER BY id", done).fetchall()
        return [_record(r) for r in rows]

    def reject_unfinished(self, reason: str) -> int:
        """Reject every unfinished batch with ``reason`` (their chain is gone); returns how many."""
        done = (BatchState.ACCEPTED.value, BatchState.REJECTED.value)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            cursor = self._db.execute("UPDATE batches SET state = ?, error = ?, updated = ? WHERE state NOT IN (?, ?)",
                                      (BatchState.REJECTED.value, reason, time.time(), *done))
            self._db.execute("COMMIT")
        return cursor.rowcount

    def latest_accepted(self) -> BatchRecord | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM batches WHERE state = ? ORDER BY id DESC LIMIT 1",
                                   (BatchState.ACCEPTED.value,)).fetchone()
        return None if row is None else _record(row)

    def count_by_state(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM batches GROUP BY state").fetchall()
        return {state: n for state, n in rows}

    def deployment(self, chain_id: int) -> tuple[dict[str, str], str] | None:
        """(contract addresses, key fingerprint) recorded for ``chain_id``, if any."""
        with self._lock:
            row = self._db.execute("SELECT addresses, key_fingerprint FROM deployment WHERE chain_id = ?",
                                   (chain_id,)).fetchone()
        return None if row is None else (json.loads(row[0]), row[1])

    def record_deployment(self, chain_id: int, addresses: dict[str, str], key_fingerprint: str) -> None:
        self._write("INSERT OR REPLACE INTO deployment (chain_id, addresses, key_fingerprint) VALUES (?, ?, ?)",
                    (chain_id, json.dumps(addresses), key_fingerprint))


def _record(row: sqlite3.Row) -> BatchRecord:
    def loads(name: str) -> Any:
        return None if row[name] is None else json.loads(row[name])

    return BatchRecord(
        id=row["id"], state=BatchState(row["state"]), nonce=row["nonce"], expiry=row["expiry"],
        instruments=tuple(json.loads(row["instruments"])), request=request_from_json(row["request"]),
        created=row["created"], updated=row["updated"], attempts=row["attempts"], proof=loads("proof"),
        public_inputs=loads("public_inputs"), tx_hash=row["tx_hash"], raw_tx=row["raw_tx"], tx_nonce=row["tx_nonce"],
        gas_used=row["gas_used"], block_number=row["block_number"], error=row["error"],
        timings=json.loads(row["timings"]),
    )
