"""A local stand-in for Deribit's websocket API (JSON-RPC 2.0 over ``websockets``, on loopback),
speaking the documented message formats, for the Deribit feed's tests.

    with DeribitVenue() as venue:            # ws://127.0.0.1:<free port>
        feed = DeribitFeed(DeribitConfig(url=venue.url))
        venue.send_round()                   # one notification per subscribed channel, stamped now
        venue.send(ticker(name, stamp_ms, mark_iv=70.0, underlying=60_000.0))
        venue.drop()                         # hang up on every client (the feed reconnects)

It answers public/set_heartbeat (then sends a ``test_request`` heartbeat), public/test,
public/get_index_price, public/get_instruments, public/get_tradingview_chart_data and
public/subscribe; any other method, and those in ``refuse``, get a JSON-RPC error. ``stream_every_s`` makes it send a
round by itself at that period (for a running service). ``received`` lists every request.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from websockets.asyncio.server import ServerConnection, serve

from engine.instruments import OptionInstrument, OptionKind, format_instrument_name

SPOT = 60_000.0
EXCHANGES = ("bitstamp", "coinbase", "kraken", "gemini")


def _rpc(**fields: Any) -> dict:
    return {"jsonrpc": "2.0", "usIn": 1_700_000_000_000_000, "usOut": 1_700_000_000_000_100, "usDiff": 100,
            "testnet": False, **fields}


def notification(channel: str, data: Any) -> dict:
    return {"jsonrpc": "2.0", "method": "subscription", "params": {"channel": channel, "data": data}}


def index(stamp_ms: int, price: float = SPOT) -> dict:
    return notification("deribit_price_index.btc_usd", {"index_name": "btc_usd", "price": price, "timestamp": stamp_ms})


def ranking(stamp_ms: int, price: float = SPOT) -> dict:
    return notification("deribit_price_ranking.btc_usd", [
        {"identifier": name, "price": price * (1 + 1e-4 * (i - 1.5)), "original_price": price,
         "weight": 100.0 / len(EXCHANGES), "timestamp": stamp_ms - 100 * i, "enabled": True}
        for i, name in enumerate(EXCHANGES)])


def dvol(stamp_ms: int, volatility: float = 60.0) -> dict:
    return notification("deribit_volatility_index.btc_usd",
                        {"index_name": "btc_usd", "volatility": volatility, "timestamp": stamp_ms})


def ticker(name: str, stamp_ms: int, **fields: Any) -> dict:
    data = {"instrument_name": name, "timestamp": stamp_ms, "state": "open", "index_price": SPOT,
            "best_bid_price": None, "best_ask_price": None, "best_bid_amount": 0.0, "best_ask_amount": 0.0,
            "open_interest": 100.0, "stats": {"volume": 10.0, "high": None, "low": None, "price_change": None}}
    data.update(fields)
    return notification(f"ticker.{name}.100ms", data)


def perp_ticker(name: str, stamp_ms: int, mark: float = SPOT * 1.0002) -> dict:
    return ticker(name, stamp_ms, mark_price=mark, current_funding=0.0, funding_8h=0.0, last_price=mark)


def option_ticker(name: str, stamp_ms: int, mark_iv: float, underlying: float = SPOT) -> dict:
    return ticker(name, stamp_ms, mark_iv=mark_iv, bid_iv=mark_iv - 1, ask_iv=mark_iv + 1,
                  underlying_price=underlying, underlying_index="SYN.BTC", mark_price=0.01, interest_rate=0.0,
                  greeks={"delta": 0.5, "gamma": 0.0, "vega": 50.0, "theta": -40.0, "rho": 5.0})


def trades(stamp_ms: int, seqs: list[int], *, liquidation: bool = False, amount: float = 6_000.0) -> dict:
    return notification("trades.BTC-PERPETUAL.100ms", [
        {"trade_seq": s, "trade_id": f"T{s}", "timestamp": stamp_ms, "tick_direction": 0, "price": SPOT,
         "mark_price": SPOT, "index_price": SPOT, "instrument_name": "BTC-PERPETUAL", "direction": "sell",
         "amount": amount, **({"liquidation": "T"} if liquidation else {})} for s in seqs])


def smile_iv(strike: float, spot: float = SPOT) -> float:
    """Mark IV in percent from an SVI smile (60 at the money, skewed to puts), the same at every expiry:
    w(k) / t = 0.32 + 0.4 (-0.3 k + sqrt(k^2 + 0.01))."""
    k = math.log(strike / spot)
    return 100.0 * math.sqrt(0.32 + 0.4 * (-0.3 * k + math.sqrt(k * k + 0.01)))


class DeribitVenue:
    """The local venue (see the module doc); a context manager that starts and stops its thread."""

    def __init__(self, *, spot: float = SPOT, expiry_days: tuple[int, ...] = (7, 28),
                 stream_every_s: float | None = None):
        self.spot = spot
        self.stream_every_s = stream_every_s
        today = datetime.now(timezone.utc).date()
        self.options = [OptionInstrument("BTC", today + timedelta(days=d), round(spot * (1 + o / 20)), kind)
                        for d in expiry_days for o in range(-6, 7) for kind in (OptionKind.PUT, OptionKind.CALL)]
        self.perpetuals = ("BTC-PERPETUAL", "BTC_USDC-PERPETUAL")
        self.received: list[tuple[str, Any]] = []
        self.subscribed: list[str] = []
        self.refuse: set[str] = set()  # methods answered with a JSON-RPC error, as a venue under load would
        self._clients: set[ServerConnection] = set()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="deribit-venue", daemon=True)
        self.port = 0

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/api/v2"

    def __enter__(self) -> DeribitVenue:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the local Deribit venue did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def methods(self) -> list[str]:
        return [m for m, _ in self.received]

    # -- sending from the test's thread

    def send(self, *messages: dict | str) -> None:
        texts = [m if isinstance(m, str) else json.dumps(m) for m in messages]
        asyncio.run_coroutine_threadsafe(self._broadcast(texts), self._loop).result(5)

    def round(self, stamp_ms: int | None = None, iv_shift: float = 0.0) -> list[dict]:
        """One notification per subscribed channel, stamped ``stamp_ms`` (default: now)."""
        stamp = int(time.time() * 1000) if stamp_ms is None else stamp_ms
        out = [index(stamp, self.spot), ranking(stamp, self.spot), dvol(stamp, 60.0 + iv_shift)]
        out += [perp_ticker(p, stamp, self.spot * (1.0002 + 1e-4 * i)) for i, p in enumerate(self.perpetuals)]
        out += [option_ticker(format_instrument_name(o), stamp, smile_iv(o.strike, self.spot) + iv_shift, self.spot)
                for o in self.options]
        return out

    def send_round(self, stamp_ms: int | None = None) -> None:
        self.send(*self.round(stamp_ms))

    def drop(self) -> None:
        """Close every client connection (as a venue restart would)."""
        async def close_all() -> None:
            for ws in list(self._clients):
                await ws.close(code=1012, reason="service restart")
        asyncio.run_coroutine_threadsafe(close_all(), self._loop).result(5)

    # -- the server

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        async with serve(self._serve_client, "127.0.0.1", 0) as server:
            self.port = server.sockets[0].getsockname()[1]
            self._ready.set()
            streamer = asyncio.create_task(self._stream()) if self.stream_every_s else None
            await self._stop.wait()
            if streamer:
                streamer.cancel()

    async def _stream(self) -> None:
        while True:
            await asyncio.sleep(self.stream_every_s or 1.0)
            if self.subscribed:
                await self._broadcast([json.dumps(m) for m in self.round()])

    async def _broadcast(self, texts: list[str]) -> None:
        for ws in list(self._clients):
            for text in texts:
                try:
                    await ws.send(text)
                except Exception:  # a client that just left: the venue goes on, like the real one
                    break

    async def _serve_client(self, ws: ServerConnection) -> None:
        self._clients.add(ws)
        try:
            async for raw in ws:
                request = json.loads(raw)
                method, params, rid = request.get("method"), request.get("params") or {}, request.get("id")
                self.received.append((method, params))
                for reply in self._answer(method, params, rid):
                    await ws.send(json.dumps(reply))
        except Exception:
            pass  # the client hung up
        finally:
            self._clients.discard(ws)

    def _answer(self, method: str, params: dict, rid: int) -> list[dict]:
        if method in self.refuse:
            return [_rpc(id=rid, error={"code": 10028, "message": "too_many_requests"})]
        if method == "public/set_heartbeat":
            return [_rpc(id=rid, result="ok"), {"jsonrpc": "2.0", "method": "heartbeat",
                                                "params": {"type": "test_request"}}]
        if method == "public/test":
            return [_rpc(id=rid, result={"version": "1.2.26"})]
        if method == "public/get_index_price":
            return [_rpc(id=rid, result={"index_price": self.spot, "estimated_delivery_price": self.spot})]
        if method == "public/get_instruments":
            return [_rpc(id=rid, result=[
                {"instrument_name": format_instrument_name(o), "kind": "option", "base_currency": "BTC",
                 "option_type": "call" if o.is_call else "put", "strike": o.strike, "is_active": True,
                 "expiration_timestamp": int(o.expiry_datetime().timestamp() * 1000), "tick_size": 0.0005}
                for o in self.options])]
        if method == "public/get_tradingview_chart_data":
            n, walk, draws = 600, 0.0, random.Random(7)
            closes = []
            for _ in range(n):  # a seeded random walk, 0.08% a minute (about 60% a year)
                walk += draws.gauss(0.0, 0.0008)
                closes.append(self.spot * math.exp(walk))
            start = int(params["end_timestamp"]) - n * 60_000
            return [_rpc(id=rid, result={"status": "ok", "ticks": [start + 60_000 * i for i in range(n)],
                                         "open": closes, "high": closes, "low": closes, "close": closes,
                                         "volume": [1.0] * n, "cost": [SPOT] * n})]
        if method == "public/subscribe":
            self.subscribed = list(params.get("channels", []))
            return [_rpc(id=rid, result=self.subscribed)]
        return [_rpc(id=rid, error={"code": -32601, "message": "Method not found"})]
