"""`dlpe serve --feed deribit --deribit-url ws://127.0.0.1:PORT --workers tcp://127.0.0.1:PORT`
(issue 13's acceptance): the service quotes the chain a local Deribit venue lists, from that
venue's stream, and proves its batches on a Dask LocalCluster (one worker process, one thread);
a batch is accepted by the vault on the service's own anvil. Bounded: 120 s for the first
accepted batch after the service is ready."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from distributed import LocalCluster

from tests.solver.deribit_venue import DeribitVenue
from tests.solver.service_process import ServiceProcess
from verifier_contracts.devnet import find_anvil

pytestmark = pytest.mark.skipif(find_anvil() is None, reason="the anvil binary is not installed: run `make install`")


@pytest.fixture(scope="module")
def venue() -> Iterator[DeribitVenue]:
    with DeribitVenue(stream_every_s=0.5) as v:
        yield v


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None,
                      host="127.0.0.1") as c:
        yield c


@pytest.fixture(scope="module")
def service(tmp_path_factory, venue, cluster) -> Iterator[ServiceProcess]:
    args = ("--feed", "deribit", "--deribit-url", venue.url, "--workers", cluster.scheduler_address)
    with ServiceProcess(tmp_path_factory.mktemp("deribit"), args=args, cut_interval_s=2, batch_quotes=1,
                        deribit_tick_s=0.5) as running:
        running.wait_ready()
        yield running


def test_serve_quotes_the_venue_and_proves_on_dask(service: ServiceProcess, venue: DeribitVenue,
                                                   cluster: LocalCluster) -> None:
    def live_quotes() -> list | None:
        rows = service.get("/quotes").json()["quotes"]
        return rows if any(q["bid"] is not None for q in rows) else None

    rows = service.wait_for("live quotes from the Deribit feed", live_quotes, 30)
    listed = {name for _, params in venue.received if isinstance(params, dict) for name in params.get("channels", [])}
    assert all(f"ticker.{q['instrument']}.100ms" in listed for q in rows)
    assert "public/test" in venue.methods()  # heartbeats answered

    def accepted() -> dict | None:
        batches = service.get("/batches").json()
        return next((b for b in batches if b["state"] == "accepted"), None)

    batch = service.wait_for("a batch proved on Dask and accepted", accepted, 120)
    assert batch["instruments"][0] in {q["instrument"] for q in rows} | {
        c.split(".")[1] for c in listed if c.startswith("ticker.")}
    # the proof came from the cluster: its scheduler holds the key plugin and ran the prove tasks
    assert any(name.startswith("dlpe-proving-key-") for name in cluster.scheduler.worker_plugins)
    assert "prove" in cluster.scheduler.task_prefixes
    health = service.get("/health").json()
    assert health["feed"] == "running" and health["ticks_accepted"] > 0
