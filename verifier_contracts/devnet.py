"""Local chains to deploy and test the contracts on, each behind a web3.py client.

- anvil: the binary the npm package @foundry-rs/anvil ships for this platform
  (node_modules/@foundry-rs/anvil-<os>-<arch>/bin/anvil), started on a free loopback
  port and stopped by the code that started it. anvil cannot pick its own port
  (`--port 0` is refused), so we bind a socket to port 0, read the port the kernel gave,
  close it and pass that number; if another process takes it first, anvil exits and we
  try a new port.
- in-process: eth-tester with py-evm behind web3's EthereumTesterProvider. Nothing to
  start; slower per call (pure-Python pairings), and the embedded fallback.

Both run the Prague rules (py-evm's newest VM; anvil is pinned to it), so the same
transaction costs the same gas on both. Each chain has unlocked, funded dev accounts;
`w3.eth.default_account` is set to the first.

    with Anvil() as chain:            # or: w3 = in_process_web3()
        w3 = chain.web3()
"""

from __future__ import annotations

import ast
import json
import platform
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import requests
from eth_abi import encode as abi_encode
from eth_tester.exceptions import TransactionFailed
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.types import RPCEndpoint, RPCResponse

ROOT = Path(__file__).resolve().parents[1]
ANVIL_HARDFORK = "prague"
"""anvil's rules, pinned to the fork py-evm implements so both chains charge the same gas."""

_LOOPBACK = "127.0.0.1"


class DevnetError(RuntimeError):
    """A devnet could not be started (the message carries the end of its log)."""


def find_anvil() -> Path | None:
    """The anvil binary installed by `npm install` (@foundry-rs/anvil), or None when it is absent."""
    system = platform.system().lower()
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine().lower(), platform.machine().lower())
    binary = ROOT / "node_modules" / "@foundry-rs" / f"anvil-{system}-{machine}" / "bin" / "anvil"
    return binary if binary.is_file() else None


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((_LOOPBACK, 0))
        return s.getsockname()[1]


def _answers_chain_id(url: str) -> bool:
    """True once the node answers eth_chainId (proxies bypassed: the node is on loopback)."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=1) as response:
            return "result" in json.load(response)
    except (OSError, ValueError):
        return False


class Anvil:
    """An anvil process on 127.0.0.1:<free port>; a context manager that kills it on exit.

    binary: default find_anvil(). startup_timeout: seconds to wait for eth_chainId per try.
    """

    def __init__(self, binary: Path | None = None, *, hardfork: str = ANVIL_HARDFORK, startup_timeout: float = 30.0):
        found = binary or find_anvil()
        if found is None:
            raise DevnetError("anvil is not installed (node_modules/@foundry-rs/anvil-*): run `make install`")
        self.binary = found
        self.hardfork = hardfork
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def url(self) -> str:
        if self.port is None:
            raise DevnetError("anvil is not running")
        return f"http://{_LOOPBACK}:{self.port}"

    def start(self, attempts: int = 3) -> Anvil:
        """Start anvil and wait until it answers; retries on a new port if the chosen one was taken."""
        for _ in range(attempts):
            self.port = _free_loopback_port()
            command = [str(self.binary), "--host", _LOOPBACK, "--port", str(self.port), "--hardfork", self.hardfork]
            self._process = subprocess.Popen(
                [*command, "--quiet"],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + self.startup_timeout
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    break  # exited: most likely the port was taken between our probe and its bind
                if _answers_chain_id(self.url):
                    return self
                time.sleep(0.05)
            self.stop()
        self._log.seek(0)
        tail = self._log.read()[-2000:].decode(errors="replace")
        raise DevnetError(f"anvil did not answer eth_chainId after {attempts} tries; its log ends:\n{tail}")

    def stop(self) -> None:
        """Terminate anvil (kill it if it does not exit within 5 s). Safe to call twice."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def web3(self) -> Web3:
        """A web3.py client for this node, with the first dev account as default sender."""
        session = requests.Session()
        session.trust_env = False  # never route loopback traffic through an environment proxy
        w3 = Web3(HTTPProvider(self.url, session=session, request_kwargs={"timeout": 120}))
        w3.eth.default_account = w3.eth.accounts[0]
        return w3

    def __enter__(self) -> Anvil:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self._log.close()


class InProcessProvider(EthereumTesterProvider):
    """web3's eth-tester provider, with reverts reported as a node reports them.

    Nodes answer a reverted eth_call / eth_estimateGas with the JSON-RPC error
    {code 3, "execution reverted", data: the revert bytes}, from which web3 raises
    ContractCustomError carrying the data. web3's eth-tester bridge instead raises
    eth_tester's TransactionFailed("execution reverted: <reason>"), where <reason> is
    the repr of the revert bytes, or the decoded text of an Error(string). This turns it
    back into the node's answer, so that clients decode custom errors the same way on
    every chain.
    """

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        try:
            return super().make_request(method, params)
        except TransactionFailed as failure:
            request_id = repr(self._current_request_id)
            self._current_request_id += 1
            error = {"code": 3, "message": "execution reverted", "data": "0x" + _revert_bytes(failure).hex()}
            return cast(RPCResponse, {"jsonrpc": "2.0", "id": request_id, "error": error})


_REVERTED = "execution reverted: "
_ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string), what require(cond, "text") reverts with


def _revert_bytes(failure: TransactionFailed) -> bytes:
    """The revert data inside eth-tester's TransactionFailed message (empty when it holds none)."""
    message = str(failure.args[0]) if failure.args else ""
    reason = message.removeprefix(_REVERTED)
    if reason.startswith(("b'", 'b"')):
        try:
            data = ast.literal_eval(reason)
        except (SyntaxError, ValueError):
            return b""
        return data if isinstance(data, bytes) else b""
    if message.startswith(_REVERTED) and reason:
        return _ERROR_STRING_SELECTOR + abi_encode(["string"], [reason])
    return b""


def in_process_web3() -> Web3:
    """A fresh in-process chain (eth-tester + py-evm) behind web3.py, first dev account as default sender."""
    w3 = Web3(InProcessProvider())
    w3.eth.default_account = w3.eth.accounts[0]
    return w3


def latest_timestamp(w3: Web3) -> int:
    """The timestamp of the chain's latest block (Unix seconds)."""
    return w3.eth.get_block("latest")["timestamp"]


def mine_block_at(w3: Web3, timestamp: int) -> None:
    """Mine an empty block at `timestamp`, later than the latest block's: on anvil by `evm_mine`
    with that timestamp; in process, eth-tester's time travel mines a block at timestamp - 1 and
    leaves the pending block at `timestamp`, which one more block then seals. Later blocks follow
    from there, so tests can move a chain's clock past a deadline."""
    if isinstance(w3.provider, EthereumTesterProvider):
        tester = w3.provider.ethereum_tester
        tester.time_travel(timestamp)
        tester.mine_blocks(1)
    else:
        response = w3.provider.make_request(RPCEndpoint("evm_mine"), [timestamp])
        if "error" in response:
            raise DevnetError(f"evm_mine at {timestamp} failed: {response['error']}")
    if latest_timestamp(w3) != timestamp:
        raise DevnetError(f"mined a block at {latest_timestamp(w3)}, not at {timestamp}")
