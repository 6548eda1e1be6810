"""Prometheus metrics of one service instance (its own registry, so that two instances in one
process, as in tests, do not collide). Served as text by GET /metrics."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class ServiceMetrics:
    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.ticks = Counter("dlpe_ticks_total", "Market ticks accepted by validation", registry=r)
        self.tick_rejections = Counter("dlpe_tick_rejections_total", "Market ticks rejected, by reason", ["reason"],
                                       registry=r)
        self.oracle_rejections = Counter("dlpe_oracle_rejections_total",
                                         "Feed reports left out of the oracle median, by kind and reason",
                                         ["kind", "reason"], registry=r)
        self.pipeline_errors = Counter("dlpe_pipeline_errors_total", "Ticks the pipeline failed on", registry=r)
        self.live_quotes = Gauge("dlpe_live_quotes", "Quotes live after the latest tick", registry=r)
        self.batches = Counter("dlpe_batch_transitions_total", "Batch state transitions, by new state", ["state"],
                               registry=r)
        self.cut_failures = Counter("dlpe_cut_failures_total", "Batches that could not be planned", registry=r)
        self.worker_restarts = Counter("dlpe_prover_restarts_total", "Prover pools restarted after a death",
                                       registry=r)
        self.scheduler_errors = Counter("dlpe_scheduler_errors_total", "Unexpected scheduler errors (retried)",
                                        registry=r)
        self.node_errors = Counter("dlpe_node_errors_total", "Chain node errors (retried)", registry=r)
        self.prove_seconds = Histogram("dlpe_prove_seconds", "Groth16 prove time per batch", registry=r,
                                       buckets=(0.25, 0.5, 1, 2, 4, 8, 16, 32, 64))
        self.submit_gas = Gauge("dlpe_submit_gas", "Gas used by the latest accepted submitBatch", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
