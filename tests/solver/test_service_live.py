"""`dlpe serve` with real parts (issue 12 item 7): one service process for the module, on a free
loopback port, with its own anvil, the simulator feed and the 1-quote batch circuit (keys cached by
fingerprint). A quote goes from market data to a batch the vault accepted; every endpoint answers
as docs/operator.md says; bad input is a 4xx naming the field; a prover worker killed mid-proof is
replaced and the batch proven again; the served OpenAPI schema is fuzzed with schemathesis
(bounded examples): no 500s.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from prometheus_client.parser import text_string_to_metric_families
from websockets.sync.client import connect as websocket_connect

from tests.solver.service_process import ServiceProcess
from verifier_contracts.devnet import find_anvil

pytestmark = pytest.mark.skipif(find_anvil() is None, reason="the anvil binary is not installed: run `make install`")

ACCEPTED_WITHIN_S = 90.0
HEX_HASH = re.compile(r"0x[0-9a-f]{64}")


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    # a cut every 2 s keeps batches flowing; one quote per batch is the smallest circuit
    with ServiceProcess(tmp_path_factory.mktemp("service"), cut_interval_s=2, batch_quotes=1) as running:
        running.wait_ready()
        yield running


@pytest.fixture(scope="module")
def accepted_batch(service: ServiceProcess) -> dict:
    """The first batch the vault accepted, as GET /batches lists it."""
    def first_accepted() -> dict | None:
        batches = service.get("/batches").json()
        assert not [b for b in batches if b["state"] == "rejected"], f"rejected batches: {batches}"
        return next((b for b in reversed(batches) if b["state"] == "accepted"), None)

    return service.wait_for("an accepted batch", first_accepted, ACCEPTED_WITHIN_S)


def test_health_reports_the_feed_and_the_devnet(service: ServiceProcess) -> None:
    health = service.wait_for("a healthy service",
                              lambda: (h := service.get("/health").json())["status"] == "ok" and h or None, 30)
    assert health["feed"] == "running" and health["ticks_accepted"] > 0
    assert health["chain_id"] == 31337 and health["node_ok"]
    assert re.fullmatch(r"0x[0-9a-fA-F]{40}", health["vault"])
    assert 0 <= health["last_tick_age_s"] < 30


def test_a_quote_goes_from_market_data_to_an_accepted_batch(service: ServiceProcess, accepted_batch: dict) -> None:
    detail = service.get(f"/batches/{accepted_batch['id']}").json()
    assert detail["state"] == "accepted" and detail["error"] is None
    assert HEX_HASH.fullmatch(detail["tx_hash"]) and detail["gas_used"] > 0 and detail["block_number"] > 0
    assert len(detail["instruments"]) == 1 and detail["attempts"] >= 1
    assert {"pi_a", "pi_b", "pi_c"} <= set(detail["proof"])
    assert detail["public_inputs"] and all(v.isdigit() for v in detail["public_inputs"])
    assert detail["timings"]["prove_s"] > 0

    def proven_quote() -> dict | None:
        rows = service.get("/quotes").json()["quotes"]
        return next((q for q in rows if q["proven"]), None)

    quote = service.wait_for("a proven quote in /quotes", proven_quote, 30)
    carrying = service.get(f"/batches/{quote['batch_id']}").json()
    assert carrying["state"] == "accepted" and quote["instrument"] in carrying["instruments"]
    assert quote["proven_bid"] < quote["proven_ask"]
    # the proof fixes mid -/+ half spread; the live quote moves with every tick, so only its scale is compared
    assert abs(quote["proven_bid"] + quote["proven_ask"] - quote["bid"] - quote["ask"]) < 0.5 * (quote["bid"] + quote["ask"])
    one = service.get(f"/quotes/{quote['instrument']}")
    assert one.status_code == 200 and one.json()["instrument"] == quote["instrument"]


def test_metrics_are_prometheus_text(service: ServiceProcess, accepted_batch: dict) -> None:
    response = service.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(response.text) for s in family.samples}
    assert samples[("dlpe_ticks_total", ())] > 0
    assert samples[("dlpe_batch_transitions_total", (("state", "accepted"),))] >= 1
    assert samples[("dlpe_prove_seconds_count", ())] >= 1
    assert samples[("dlpe_submit_gas", ())] > 0


def test_risk_answers_for_the_latest_tick(service: ServiceProcess) -> None:
    risk = service.get("/risk").json()
    assert risk["timestamp"] is not None and risk["breaker"] is not None


@pytest.mark.parametrize("n", [1, 100])
def test_price_is_finite_for_one_and_a_hundred_options(service: ServiceProcess, n: int) -> None:
    options = [{"strike": 40_000 + 400 * i, "t": 0.05 + 0.01 * (i % 10), "is_call": i % 2 == 0, "vol": 0.6}
               for i in range(n)]
    options[0] |= {"market_price": 25_000.0}  # deep in the money call: its implied vol too
    response = service.post("/price", json={"spot": 60_000, "rate": 0.01, "options": options})
    assert response.status_code == 200, response.text
    priced = response.json()["options"]
    assert len(priced) == n
    for row in priced:
        assert all(math.isfinite(row[k]) for k in ("price", "delta", "gamma", "vega", "theta"))
    assert math.isfinite(priced[0]["implied_vol"]) and priced[0]["implied_vol"] > 0


GOOD_OPTION = {"strike": 65_000, "t": 0.1, "is_call": True, "vol": 0.6}


@pytest.mark.parametrize("body, field", [
    ({"options": [GOOD_OPTION]}, "spot"),
    ({"spot": -1, "options": [GOOD_OPTION]}, "spot"),
    ({"spot": 60_000, "options": []}, "options"),
    ({"spot": 60_000, "options": [GOOD_OPTION | {"strike": 0}]}, "strike"),
    ({"spot": 60_000, "options": [GOOD_OPTION | {"t": -0.5}]}, "t"),
    ({"spot": 60_000, "options": [GOOD_OPTION | {"vol": "high"}]}, "vol"),
    ({"spot": 60_000, "options": [GOOD_OPTION | {"is_call": "maybe"}]}, "is_call"),
    ({"spot": 60_000, "options": [GOOD_OPTION | {"colour": "red"}]}, "colour"),
    ({"spot": 60_000, "rate": 5, "options": [GOOD_OPTION]}, "rate"),
], ids=["missing-spot", "negative-spot", "no-options", "zero-strike", "negative-t", "vol-text", "is_call-text",
        "unknown-field", "rate-out-of-range"])
def test_bad_price_bodies_are_422_naming_the_field(service: ServiceProcess, body: dict, field: str) -> None:
    response = service.post("/price", json=body)
    assert response.status_code == 422, response.text
    assert field in {str(part) for error in response.json()["detail"] for part in error["loc"]}


@pytest.mark.parametrize("raw, field", [
    (b'{"spot": NaN, "options": [{"strike": 1, "t": 0.1, "is_call": true, "vol": 0.5}]}', "spot"),
    (b'{"spot": 60000, "options": [{"strike": Infinity, "t": 0.1, "is_call": true, "vol": 0.5}]}', "strike"),
    (b'{"spot": 60000, "options": [', None),
    (b'[1, 2]', None),
], ids=["nan-spot", "infinite-strike", "truncated-json", "not-an-object"])
def test_unparseable_or_non_finite_bodies_are_422(service: ServiceProcess, raw: bytes, field: str | None) -> None:
    response = service.post("/price", content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    if field is not None:
        assert field in json.dumps(response.json()["detail"])


def test_an_upper_bound_market_price_is_422_naming_the_option(service: ServiceProcess) -> None:
    body = {"spot": 60_000, "options": [GOOD_OPTION, {"strike": 1, "t": 0.1, "is_call": True, "market_price": 60_000}]}
    response = service.post("/price", json=body)
    assert response.status_code == 422 and "options[1].market_price" in response.json()["detail"]


@pytest.mark.parametrize("path, status, field", [
    ("/quotes/BTC-7DEC99-1-C", 404, "instrument"),
    ("/quotes/not-an-instrument", 422, "instrument"),
    ("/quotes/BTC-31FEB26-60000-C", 422, "instrument"),
    ("/batches/999999999", 404, "batch_id"),
    ("/batches/0", 422, "batch_id"),
    ("/batches/x", 422, "batch_id"),
    ("/batches?limit=0", 422, "limit"),
])
def test_unknown_or_malformed_ids_are_4xx_naming_the_field(service: ServiceProcess, path: str, status: int,
                                                           field: str) -> None:
    response = service.get(path)
    assert response.status_code == status, response.text
    assert field in json.dumps(response.json()["detail"])


def test_the_quote_stream_sends_the_latest_quotes(service: ServiceProcess) -> None:
    with websocket_connect(service.base_url.replace("http", "ws") + "/quotes/stream", open_timeout=10,
                           proxy=None) as ws:
        message = json.loads(ws.recv(timeout=15))
    assert set(message) == {"timestamp", "spot", "regime", "withheld", "quotes"}
    assert message["timestamp"] > 0 and message["quotes"]
    assert {"instrument", "bid", "ask", "proven", "batch_id"} <= set(message["quotes"][0])


def prover_workers(service_pid: int) -> list[int]:
    """Pids of the service's spawned prover processes (children running multiprocessing's spawn_main)."""
    workers = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        if parent == service_pid and b"spawn_main" in command:
            workers.append(int(entry.name))
    return workers


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds the prover worker through /proc")
def test_a_prover_worker_killed_mid_proof_is_replaced(service: ServiceProcess, accepted_batch: dict) -> None:
    def proving_with_worker() -> tuple[int, list[int]] | None:
        latest = service.get("/batches", params={"limit": 1}).json()
        workers = prover_workers(service.process.pid)
        return (latest[0]["id"], workers) if latest and latest[0]["state"] == "proving" and workers else None

    batch_id, workers = service.wait_for("a batch being proven", proving_with_worker, 30, period_s=0.05)
    for pid in workers:
        os.kill(pid, signal.SIGKILL)

    def accepted_after_the_kill() -> dict | None:
        batches = service.get("/batches").json()
        return next((b for b in batches if b["id"] >= batch_id and b["state"] == "accepted"), None)

    accepted = service.wait_for("a batch accepted after the worker was killed", accepted_after_the_kill, 60)
    assert accepted["id"] >= batch_id
    restarts = [s.value for f in text_string_to_metric_families(service.get("/metrics").text) for s in f.samples
                if s.name == "dlpe_prover_restarts_total"]
    assert restarts and restarts[0] >= 1
    assert set(prover_workers(service.process.pid)).isdisjoint(workers)  # a fresh worker took over


# -- the served OpenAPI schema, fuzzed

@pytest.fixture(scope="module")
def served_schema(service: ServiceProcess):
    return schemathesis.openapi.from_url(f"{service.base_url}/openapi.json", timeout=10)


fuzzed = schemathesis.pytest.from_fixture("served_schema")


@fuzzed.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_no_request_the_schema_allows_gets_a_500(case: schemathesis.Case) -> None:
    session = requests.Session()
    session.trust_env = False  # loopback: never through an environment proxy
    response = case.call(session=session, timeout=30)
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:500]}"
    if response.status_code >= 400:
        assert "Traceback" not in response.text
