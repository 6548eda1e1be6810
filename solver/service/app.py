"""The FastAPI app of `dlpe serve` (routes in the module doc of solver.service; OpenAPI at /docs
and /openapi.json). Long work (proofs, submissions) never runs in a request: requests read the
runtime's latest state and the job store.

Errors: a malformed request is a 422 naming the field (pydantic); an engine error is a 422 with
the engine's message (it names the field too); an unknown instrument or batch is a 404.
"""

from __future__ import annotations

import asyncio
import math
import time
from contextlib import asynccontextmanager
from typing import Callable

import numpy as np
from fastapi import FastAPI, HTTPException, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from engine import fixed as fx
from engine import fixed_book as fb
from engine.bsm import bsm_greeks
from engine.errors import DLPEError, InvalidInput
from engine.implied_vol import implied_vol
from engine.instruments import parse_instrument_name
from solver.pipeline import QuoteSet
from solver.service.models import (
    BatchDetail,
    BatchOut,
    ErrorOut,
    Health,
    PricedOption,
    PriceRequest,
    PriceResponse,
    QuoteOut,
    QuotesOut,
    RiskOut,
)
from solver.service.runtime import SolverRuntime, broadcaster
from solver.service.store import BatchRecord

NOT_FOUND = {404: {"model": ErrorOut}}
INVALID = {422: {"description": "a field is invalid; the message names it"}}


def proven_quotes(batch: BatchRecord) -> dict[str, tuple[float, float]]:
    """Bid and ask of each quote of an accepted batch, as the proof fixes them (mid -/+ half spread)."""
    market = batch.request.market
    out = {}
    for name, order in zip(batch.instruments, batch.request.quotes):
        mid = fb.quote_bsm(market, order).price
        out[name] = (fx.from_fixed(mid - order.half_spread), fx.from_fixed(mid + order.half_spread))
    return out


def _json_float(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


def create_app(start_runtime: Callable[[], SolverRuntime]) -> FastAPI:
    state: dict = {"proven": (None, {})}
    streams: set[asyncio.Queue] = set()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        runtime = await asyncio.to_thread(start_runtime)
        runtime.run_threads(broadcaster(asyncio.get_running_loop(), streams))
        state["runtime"] = runtime
        yield
        await asyncio.to_thread(runtime.stop)

    app = FastAPI(title="DLPE solver", version="0.1.0", lifespan=lifespan,
                  description="Quotes from the DLPE pipeline, proven in batches and submitted to the QuoteVault.")

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        # FastAPI's own handler echoes the offending input, and a NaN or infinite one (JSON's NaN,
        # Infinity, which json.loads accepts) cannot be written back as JSON: it would be a 500
        detail = jsonable_encoder(error.errors(), custom_encoder={float: _json_float})
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(DLPEError)
    async def engine_error(request: Request, error: DLPEError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=422)

    def rt() -> SolverRuntime:
        return state["runtime"]

    def proven() -> tuple[int | None, dict[str, tuple[float, float]]]:
        latest = rt().store.latest_accepted()
        if latest is None:
            return None, {}
        if state["proven"][0] != latest.id:
            state["proven"] = (latest.id, proven_quotes(latest))
        return state["proven"]

    def quotes_out(quotes: QuoteSet | None) -> QuotesOut:
        if quotes is None:
            return QuotesOut(timestamp=None, spot=None, regime=None, withheld="no tick yet", quotes=[])
        batch_id, by_name = proven()
        rows = []
        for q in quotes.quotes:
            name = q.instrument.name
            pair = by_name.get(name)
            rows.append(QuoteOut(
                instrument=name, bid=q.bid, ask=q.ask, bid_size=q.bid_size, ask_size=q.ask_size, mid=q.mid, vol=q.vol,
                regime=q.regime.value, proven=pair is not None, batch_id=batch_id if pair else None,
                proven_bid=pair[0] if pair else None, proven_ask=pair[1] if pair else None))
        return QuotesOut(timestamp=quotes.timestamp, spot=quotes.spot, regime=quotes.regime.value,
                         withheld=quotes.withheld.value if quotes.withheld else None, quotes=rows)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        r = rt()
        last = r.latest.timestamp if r.latest else None
        age = None if last is None else max(0.0, time.time() - last)
        ok = r.feed_state == "running" and r.scheduler.node_ok and age is not None and age < 30
        return Health(
            status="ok" if ok else "degraded", feed=r.feed_state, ticks_accepted=r.validator.accepted,
            ticks_rejected={k.value: v for k, v in r.validator.counts.items()}, last_tick_age_s=age,
            chain_id=r.chain.chain_id, vault=r.chain.vault.address, node_ok=r.scheduler.node_ok,
            batches=r.store.count_by_state(), uptime_s=time.time() - r.started)

    @app.get("/quotes", response_model=QuotesOut)
    def quotes() -> QuotesOut:
        return quotes_out(rt().latest)

    @app.get("/quotes/{instrument}", response_model=QuoteOut, responses={**NOT_FOUND, **INVALID})
    def quote(instrument: str = Path(..., max_length=64, description="Deribit name, e.g. BTC-8JAN25-60000-C")
              ) -> QuoteOut:
        try:
            parse_instrument_name(instrument)
        except InvalidInput as error:
            raise HTTPException(422, f"instrument: {error.reason} (got {instrument!r})") from None
        for row in quotes_out(rt().latest).quotes:
            if row.instrument == instrument:
                return row
        raise HTTPException(404, f"instrument: {instrument} is not quoted")

    @app.post("/price", response_model=PriceResponse, responses=INVALID)
    def price(body: PriceRequest) -> PriceResponse:
        start = time.perf_counter()
        strikes = np.array([o.strike for o in body.options])
        t = np.array([o.t for o in body.options])
        is_call = np.array([o.is_call for o in body.options])
        out: list[dict] = [dict(price=None, delta=None, gamma=None, vega=None, theta=None, implied_vol=None)
                           for _ in body.options]
        with_vol = [i for i, o in enumerate(body.options) if o.vol is not None]
        if with_vol:
            idx = np.array(with_vol)
            vols = np.array([body.options[i].vol for i in with_vol])
            g = bsm_greeks(body.spot, strikes[idx], t[idx], body.rate, vols, is_call[idx], body.carry)
            for j, i in enumerate(with_vol):
                out[i].update(price=float(np.atleast_1d(g.price)[j]), delta=float(np.atleast_1d(g.delta)[j]),
                              gamma=float(np.atleast_1d(g.gamma)[j]), vega=float(np.atleast_1d(g.vega)[j]),
                              theta=float(np.atleast_1d(g.theta)[j]))
        with_price = [i for i, o in enumerate(body.options) if o.market_price is not None]
        if with_price:
            idx = np.array(with_price)
            prices = np.array([body.options[i].market_price for i in with_price])
            vols = np.atleast_1d(implied_vol(prices, body.spot, strikes[idx], t[idx], body.rate, is_call[idx],
                                             body.carry))
            for j, i in enumerate(with_price):
                v = float(vols[j])
                if not np.isfinite(v):
                    raise HTTPException(422, f"options[{i}].market_price: at the upper no-arbitrage bound, "
                                             "no finite vol gives it")
                out[i]["implied_vol"] = v
        return PriceResponse(options=[PricedOption(**o) for o in out], seconds=time.perf_counter() - start)

    @app.get("/risk", response_model=RiskOut)
    def risk() -> RiskOut:
        q = rt().latest
        if q is None:
            return RiskOut(timestamp=None, regime=None, breaker=None, net_delta=None, net_gamma=None, net_vega=None,
                           var=None, worst_scenario_loss=None, capital_utilization=None)
        g, m = q.greeks, q.metrics
        return RiskOut(timestamp=q.timestamp, regime=q.regime.value, breaker=q.breaker.value,
                       net_delta=g.delta if g else None, net_gamma=g.gamma if g else None,
                       net_vega=g.vega if g else None, var=m.var if m else None,
                       worst_scenario_loss=m.scenario_loss if m else None,
                       capital_utilization=m.utilization if m else None)

    def batch_out(b: BatchRecord, detail: bool) -> BatchOut:
        fields = dict(id=b.id, state=b.state.value, nonce=b.nonce, expiry=b.expiry, instruments=list(b.instruments),
                      created=b.created, updated=b.updated, attempts=b.attempts, tx_hash=b.tx_hash,
                      gas_used=b.gas_used, block_number=b.block_number, error=b.error, timings=b.timings)
        return BatchDetail(**fields, proof=b.proof, public_inputs=b.public_inputs) if detail else BatchOut(**fields)

    @app.get("/batches", response_model=list[BatchOut], responses=INVALID)
    def batches(limit: int = Query(50, ge=1, le=1000)) -> list[BatchOut]:
        return [batch_out(b, False) for b in rt().store.recent(limit)]

    @app.get("/batches/{batch_id}", response_model=BatchDetail, responses={**NOT_FOUND, **INVALID})
    def batch(batch_id: int = Path(..., ge=1, le=2**62)) -> BatchOut:
        b = rt().store.get(batch_id)
        if b is None:
            raise HTTPException(404, f"batch_id: no batch {batch_id}")
        return batch_out(b, True)

    @app.get("/metrics", response_class=Response)
    def metrics() -> Response:
        return Response(rt().metrics.render(), media_type="text/plain; version=0.0.4")

    @app.websocket("/quotes/stream")
    async def stream(ws: WebSocket) -> None:
        await ws.accept()
        queue: asyncio.Queue = asyncio.Queue(maxsize=8)
        streams.add(queue)
        try:
            while True:
                quotes = await queue.get()
                await ws.send_text(quotes_out(quotes).model_dump_json())
        except WebSocketDisconnect:
            pass
        finally:
            streams.discard(queue)

    return app
