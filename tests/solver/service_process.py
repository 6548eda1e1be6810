"""A real `dlpe serve` process for the service tests: started on a free loopback port in a
session of its own (so that its anvil and prover workers can be stopped with it), its log in a
file whose tail every failure message carries, stopped by SIGTERM and then SIGKILL at teardown.

    with ServiceProcess(tmp_path, DLPE_CUT_INTERVAL_S="2") as service:
        service.wait_ready()
        service.get("/health")
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")


class ServiceFailed(AssertionError):
    """The service process exited or did not reach the awaited state (the message ends with its log)."""


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServiceProcess:
    """`python -m solver.cli serve` with DLPE_* settings from ``settings`` (names without the prefix
    are upper-cased: ``cut_interval_s=2`` is DLPE_CUT_INTERVAL_S=2); the job store in ``work_dir``
    unless ``db_path`` is given; keys in the default key folder, cached by circuit fingerprint."""

    def __init__(self, work_dir: Path, *, rpc_url: str | None = None, failpoints: str | None = None,
                 args: tuple[str, ...] = (), **settings: object):
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_loopback_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.work_dir / f"service-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("DLPE_") or k in _INHERITED}
        env.update({"DLPE_DB_PATH": str(self.work_dir / "solver.sqlite"), "DLPE_LOG_FORMAT": "text"})
        env.update({f"DLPE_{k.upper()}": str(v) for k, v in settings.items()})
        if failpoints:
            env["DLPE_FAILPOINTS"] = failpoints
        command = [sys.executable, "-m", "solver.cli", "serve", "--port", str(self.port)]
        if rpc_url is not None:
            command += ["--rpc-url", rpc_url]
        command += list(args)  # further `dlpe serve` options (--feed deribit, --workers tcp://...)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.client = httpx.Client(base_url=self.base_url, timeout=10, trust_env=False)

    # -- reading

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]

    def fail(self, message: str) -> ServiceFailed:
        return ServiceFailed(f"{message}\n--- service log (end) ---\n{self.log_tail()}")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, **kwargs)

    # -- waiting

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout_s: float, period_s: float = 0.25) -> T:
        """Call ``probe`` until it returns something other than None; fail after ``timeout_s`` or if the
        process exits."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise self.fail(f"the service exited with status {self.process.returncode} while waiting for {what}")
            try:
                found = probe()
            except httpx.TransportError:
                found = None
            if found is not None:
                return found
            time.sleep(period_s)
        raise self.fail(f"no {what} within {timeout_s:.0f} s")

    def wait_ready(self, timeout_s: float = 240.0) -> dict:
        """The first /health answer (the first start of a fresh checkout sets up the circuit's keys)."""
        def health() -> dict | None:
            response = self.get("/health")
            return response.json() if response.status_code == 200 else None

        return self.wait_for("/health answer", health, timeout_s)

    def wait_exit(self, timeout_s: float) -> int:
        try:
            return self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise self.fail(f"the service did not exit within {timeout_s:.0f} s") from None

    # -- stopping

    def stop(self) -> None:
        """SIGTERM (uvicorn shuts down: the runtime stops its threads, workers and anvil), then SIGKILL
        for whatever of the process's session is left (workers of a process that died at a failpoint)."""
        self.client.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the session we started: its group id is its pid
        except ProcessLookupError:
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=5)
        self._log.close()

    def __enter__(self) -> ServiceProcess:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


_INHERITED = {"DLPE_CACHE_DIR", "DLPE_PROVER_CHECK_WITNESS"}
"""DLPE_* variables the service inherits from the test run; every other one is the test's to set."""
