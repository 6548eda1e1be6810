"""Deribit's public market data as a feed: the JSON-RPC 2.0 websocket API (``/ws/api/v2``).

At connection the feed asks, with JSON-RPC requests,
- ``public/get_index_price`` (btc_usd): where the strikes to quote are centred;
- ``public/get_instruments`` (currency, kind option): the listed chain, of which the nearest
  ``max_expiries`` expiries at least ``min_days`` away and their ``strikes_per_expiry`` strikes
  closest to the index are quoted (puts below the index, calls at and above);
- ``public/get_tradingview_chart_data`` (the perpetual, 1-minute closes): the regime model's
  history, scaled from a minute to one tick by sqrt(tick_s / 60) (Brownian scaling);
- ``public/set_heartbeat``: the server then sends ``heartbeat`` notifications, and to each of
  type ``test_request`` the feed answers with ``public/test`` (else the server hangs up);
- ``public/subscribe`` to the channels below (again after every reconnect).

Notifications (``{"method": "subscription", "params": {"channel", "data"}}``) map into the
oracle's feed kinds, one source per independent observation, so that engine.oracle takes the
median of healthy sources as it does for any other feed:

| channel | data used | oracle source |
|---|---|---|
| ``deribit_price_index.btc_usd`` | price, timestamp (ms) | SPOT ``deribit:index`` |
| ``deribit_price_ranking.btc_usd`` | each enabled constituent's price, timestamp | SPOT ``deribit:<exchange>`` |
| ``ticker.<perpetual>.100ms`` | mark_price, timestamp | PERP_MARK ``deribit:<perpetual>`` |
| ``deribit_volatility_index.btc_usd`` | volatility (percent), timestamp | IV_INDEX ``deribit:dvol`` |
| ``ticker.<option>.100ms`` | mark_iv (percent), underlying_price, timestamp | smiles; ``deribit:atm_mark_iv`` |
| ``trades.<perpetual>.100ms`` | amount of trades flagged ``liquidation``, trade_seq | the tick's liquidation volume |

``next_tick`` reads messages until ``tick_s`` has passed since the last tick and then returns a
MarketTick of the latest report of every source (each with its own exchange timestamp, so the
oracle can find a stale one), the liquidation volume since the last tick, and, every ``refit_s``,
each expiry's smile (k = ln(K / F) with F the ticker's underlying price, vols = mark_iv / 100).

A message is rejected, logged and counted by the feed's TickValidator, and never reaches a tick,
when it is malformed (not JSON, not JSON-RPC, a missing or non-finite field), stale (older than
``max_message_age_s`` by the local clock) or out of order (not newer than the last message on its
channel). Gaps are logged and counted in ``gaps`` (a message is not rejected for following one):
a trade_seq that skips numbers, or a channel silent for more than ``max_channel_silence_s``.
A JSON-RPC error answer is logged and counted in ``errors``; one to a request the feed cannot do
without (the chain, the subscription) is a DeribitError. A dropped connection is reopened with
exponential backoff (``backoff_s`` doubling up to ``backoff_max_s``) and resubscribed.

Message formats: Deribit API v2 documentation, "Notifications", "public/subscribe",
"public/set_heartbeat", "public/test", ``ticker.{instrument_name}.{interval}``,
``deribit_price_index.{index_name}``, ``deribit_price_ranking.{index_name}``,
``deribit_volatility_index.{index_name}``, ``trades.{instrument_name}.{interval}``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from contextlib import ExitStack
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

import numpy as np
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI
from websockets.sync.client import ClientConnection, connect

from engine.errors import DLPEError
from engine.instruments import OptionInstrument, parse_instrument_name
from engine.oracle import FeedKind, FeedQuote
from solver.feeds.base import FeedExhausted
from solver.feeds.validation import TickRejected, TickRejection, TickValidator
from solver.pipeline import MarketTick, Smile

log = logging.getLogger("dlpe.feeds.deribit")

YEAR_SECONDS = 365.0 * 86400.0
DERIBIT_URL = "wss://www.deribit.com/ws/api/v2"
DRAIN_S = 0.005  # a socket quiet this long has no backlog left


class DeribitError(FeedExhausted):
    """The venue cannot be used: no connection after the retries, or an error answer to a
    request the feed needs (the option chain, the history, the subscription). A FeedExhausted,
    so that a running service marks its feed ended rather than dying."""


@dataclass(frozen=True)
class DeribitConfig:
    """What the feed subscribes to and how it paces ticks (see the module doc)."""

    url: str = DERIBIT_URL
    currency: str = "BTC"
    index_name: str = "btc_usd"
    perpetuals: tuple[str, ...] = ("BTC-PERPETUAL", "BTC_USDC-PERPETUAL")
    max_expiries: int = 2
    strikes_per_expiry: int = 7
    min_days: float = 1.0
    tick_s: float = 1.0
    refit_s: float = 30.0
    warmup_minutes: int = 720
    heartbeat_s: int = 10  # Deribit's smallest interval
    max_message_age_s: float = 10.0
    max_channel_silence_s: float = 30.0
    request_timeout_s: float = 10.0
    backoff_s: float = 0.5
    backoff_max_s: float = 10.0
    connect_attempts: int = 8


class _Malformed(Exception):
    """A message that is not what its channel promises (the text says what is wrong)."""


def _number(data: dict, name: str, *, positive: bool = True) -> float:
    value = data.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _Malformed(f"{name} {value!r} is not a finite number")
    if positive and value <= 0:
        raise _Malformed(f"{name} {value!r} is not > 0")
    return float(value)


def _timestamp_s(data: dict) -> float:
    return _number(data, "timestamp") / 1000.0  # Deribit stamps in Unix milliseconds


class DeribitFeed:
    """Deribit's option chain, index, perpetuals and DVOL as a MarketFeed (see the module doc).

    ``clock`` gives Unix seconds (stale messages and tick pacing); ``validator`` counts rejections.
    """

    def __init__(self, config: DeribitConfig = DeribitConfig(), validator: TickValidator | None = None,
                 clock: Callable[[], float] = time.time):
        self.config = config
        self.validator = validator or TickValidator()
        self.clock = clock
        self.gaps: Counter[str] = Counter()
        self.errors: Counter[int] = Counter()
        self.reconnects = 0
        self._ws: ClientConnection | None = None
        self._connection = ExitStack()
        self._next_id = 0
        self._last_on_channel: dict[str, float] = {}
        self._last_trade_seq: dict[str, int] = {}
        self._reports: dict[FeedKind, dict[str, FeedQuote]] = {k: {} for k in FeedKind}
        self._options: dict[str, tuple[float, float, float]] = {}  # name -> (timestamp, mark_iv, underlying)
        self._liquidation = 0.0
        self._newest = 0.0  # the newest accepted message's exchange timestamp
        self._last_tick_stamp = 0.0
        self._rejection: TickRejected | None = None
        self._drained = False
        self._last_tick_at = 0.0
        self._last_refit_at = -math.inf
        self._connect()
        try:
            index = self._request("public/get_index_price", {"index_name": config.index_name})
            if not isinstance(index, dict):
                raise DeribitError(f"public/get_index_price: expected an object, got {index!r}")
            self.instruments = self._choose_chain(_number(index, "index_price"))
            self.rate = 0.0
            self.warmup_returns = self._warmup_returns()
            self.warmup_liquidation = np.zeros_like(self.warmup_returns)  # the chart has no liquidations
            self._subscribe()
        except _Malformed as error:
            raise DeribitError(f"public/get_index_price: {error}") from None
        except ConnectionClosed as closed:
            raise DeribitError(f"the connection closed while setting up: {closed}") from None

    # -- the connection

    @property
    def channels(self) -> list[str]:
        c = self.config
        return ([f"deribit_price_index.{c.index_name}", f"deribit_price_ranking.{c.index_name}",
                 f"deribit_volatility_index.{c.index_name}"]
                + [f"ticker.{p}.100ms" for p in c.perpetuals]
                + [f"trades.{c.perpetuals[0]}.100ms"]
                + [f"ticker.{i.name}.100ms" for i in self.instruments])

    def _connect(self) -> None:
        delay = self.config.backoff_s
        for attempt in range(1, self.config.connect_attempts + 1):
            try:
                self._connection = ExitStack()  # websockets closes a connection it opened as a context
                self._ws = self._connection.enter_context(connect(
                    self.config.url, open_timeout=self.config.request_timeout_s, max_size=2**22, max_queue=4096,
                    compression=None))
                self._request("public/set_heartbeat", {"interval": self.config.heartbeat_s})
                return
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError, DeribitError) as error:
                log.warning("deribit connection failed", extra={"attempt": attempt, "error": str(error),
                                                                 "retry_in_s": delay})
                if attempt == self.config.connect_attempts:
                    break
                time.sleep(delay)
                delay = min(2 * delay, self.config.backoff_max_s)
            except InvalidURI as error:
                raise DeribitError(f"deribit url {self.config.url!r}: {error}") from None
        raise DeribitError(f"no connection to {self.config.url} after {self.config.connect_attempts} attempts")

    def _reconnect(self) -> None:
        """Open a new connection and subscribe again; DeribitError when the venue stays away."""
        self.reconnects += 1
        for attempt in range(1, self.config.connect_attempts + 1):
            self.close()
            self._connect()  # retries with backoff by itself
            try:
                self._subscribe()
            except ConnectionClosed as closed:
                log.warning("deribit closed while resubscribing", extra={"attempt": attempt, "detail": str(closed)})
                continue
            log.info("deribit reconnected and resubscribed", extra={"reconnects": self.reconnects})
            return
        raise DeribitError(f"{self.config.url}: the connection was lost while resubscribing, "
                           f"{self.config.connect_attempts} times")

    def _send(self, method: str, params: dict) -> int:
        assert self._ws is not None
        self._next_id += 1
        self._ws.send(json.dumps({"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}))
        return self._next_id

    def _request(self, method: str, params: dict) -> Any:
        """Send a request and wait for its answer, handling whatever arrives meanwhile."""
        assert self._ws is not None
        request_id = self._send(method, params)
        deadline = time.monotonic() + self.config.request_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise DeribitError(f"{method}: no answer within {self.config.request_timeout_s} s")
            try:
                raw = self._ws.recv(timeout=remaining)
            except TimeoutError:
                raise DeribitError(f"{method}: no answer within {self.config.request_timeout_s} s") from None
            message = self._parse(raw)
            if message is None:
                continue
            if message.get("id") == request_id:
                if "error" in message:
                    raise DeribitError(f"{method}: error {message['error']!r}")
                return message.get("result")
            self._handle(message)

    def _subscribe(self) -> None:
        subscribed = self._request("public/subscribe", {"channels": self.channels})
        missing = set(self.channels) - set(subscribed if isinstance(subscribed, list) else ())
        if missing:
            raise DeribitError(f"public/subscribe: channels not granted: {sorted(missing)[:5]}")
        log.info("deribit subscribed", extra={"channels": len(self.channels)})

    # -- setting up: the chain and the history

    def _choose_chain(self, spot: float) -> tuple[OptionInstrument, ...]:
        listed = self._request("public/get_instruments",
                               {"currency": self.config.currency, "kind": "option", "expired": False})
        if not isinstance(listed, list):
            raise DeribitError(f"public/get_instruments: expected a list, got {type(listed).__name__}")
        soonest = self.clock() + self.config.min_days * 86400.0
        by_expiry: dict[str, list[OptionInstrument]] = {}
        for entry in listed:
            try:
                instrument = parse_instrument_name(entry["instrument_name"])
            except (DLPEError, KeyError, TypeError):
                continue  # a kind of option the engine does not quote (e.g. a linear one)
            if instrument.expiry_datetime().timestamp() >= soonest:
                by_expiry.setdefault(instrument.expiry.isoformat(), []).append(instrument)
        chosen: list[OptionInstrument] = []
        for expiry in sorted(by_expiry)[: self.config.max_expiries]:
            otm = [i for i in by_expiry[expiry] if i.is_call == (i.strike >= spot)]
            otm.sort(key=lambda i: abs(math.log(i.strike / spot)))
            chosen.extend(sorted(otm[: self.config.strikes_per_expiry], key=lambda i: i.strike))
        if not chosen:
            raise DeribitError(f"no {self.config.currency} option expires at least {self.config.min_days} days out")
        return tuple(chosen)

    def _warmup_returns(self) -> np.ndarray:
        end_ms = int(self.clock() * 1000)
        chart = self._request("public/get_tradingview_chart_data", {
            "instrument_name": self.config.perpetuals[0], "resolution": "1",
            "start_timestamp": end_ms - self.config.warmup_minutes * 60_000, "end_timestamp": end_ms})
        try:
            closes = np.asarray(chart["close"], dtype=float)
        except (KeyError, TypeError, ValueError) as error:
            raise DeribitError(f"public/get_tradingview_chart_data: no closes ({error})") from None
        if closes.size < 3 or not np.all(np.isfinite(closes) & (closes > 0)):
            raise DeribitError(f"public/get_tradingview_chart_data: {closes.size} closes, need >= 3 positive ones")
        return np.diff(np.log(closes)) * math.sqrt(self.config.tick_s / 60.0)

    # -- messages

    def _parse(self, raw: str | bytes) -> dict | None:
        """The JSON-RPC object, or None after rejecting it as malformed."""
        try:
            message = json.loads(raw)
        except ValueError as error:
            self._reject(TickRejection.MALFORMED, f"not JSON: {error}")
            return None
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            self._reject(TickRejection.MALFORMED, "not a JSON-RPC 2.0 object")
            return None
        return message

    def _reject(self, reason: TickRejection, detail: str) -> None:
        self._rejection = self.validator.reject(reason, detail)  # logs and counts; next_tick raises it

    def _handle(self, message: dict) -> None:
        method = message.get("method")
        if method == "heartbeat":
            if (message.get("params") or {}).get("type") == "test_request":
                self._send("public/test", {})
            return
        if method == "subscription":
            self._on_notification(message.get("params"))
            return
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            code = error.get("code") if isinstance(error.get("code"), int) else 0
            self.errors[code] += 1
            log.warning("deribit error answer", extra={"id": message.get("id"), "error": message["error"]})
            return
        if "result" in message and "id" in message:
            return  # answers to public/test and the like
        self._reject(TickRejection.MALFORMED, f"unknown message {str(message)[:120]}")

    def _on_notification(self, params: Any) -> None:
        try:
            if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
                raise _Malformed("params.channel missing")
            channel, data = params["channel"], params.get("data")
            if channel.startswith("trades."):
                self._on_trades(channel, data)
                return
            if channel.startswith("deribit_price_ranking."):
                self._on_ranking(channel, data)
                return
            if not isinstance(data, dict):
                raise _Malformed(f"{channel}: data is not an object")
            stamp = _timestamp_s(data)
            apply = self._read(channel, data, stamp)
            if self._ordered(channel, stamp):
                apply()
        except _Malformed as error:
            self._reject(TickRejection.MALFORMED, str(error))

    def _ordered(self, channel: str, stamp: float) -> bool:
        """Whether a message stamped ``stamp`` may be used (else rejected: stale or out of order)."""
        age = self.clock() - stamp
        if age > self.config.max_message_age_s:
            self._reject(TickRejection.STALE, f"{channel}: age {age:.3f}s > {self.config.max_message_age_s}s")
            return False
        last = self._last_on_channel.get(channel)
        if last is not None and stamp <= last:
            self._reject(TickRejection.OUT_OF_ORDER, f"{channel}: timestamp {stamp} is not after {last}")
            return False
        if last is not None and stamp - last > self.config.max_channel_silence_s:
            self._gap(channel, f"silent for {stamp - last:.1f}s")
        self._last_on_channel[channel] = stamp
        self._newest = max(self._newest, stamp)
        return True

    def _gap(self, channel: str, detail: str) -> None:
        self.gaps[channel] += 1
        log.warning("deribit gap", extra={"channel": channel, "detail": detail})

    def _read(self, channel: str, data: dict, stamp: float) -> Callable[[], None]:
        """Check a notification's fields (raises _Malformed) and return how to apply it."""
        kind, _, rest = channel.partition(".")
        if kind == "deribit_price_index":
            price = _number(data, "price")
            return lambda: self._report(FeedKind.SPOT, "deribit:index", price, stamp)
        if kind == "deribit_volatility_index":
            vol = _number(data, "volatility") / 100.0
            return lambda: self._report(FeedKind.IV_INDEX, "deribit:dvol", vol, stamp)
        if kind == "ticker":
            name = rest.rsplit(".", 1)[0]
            if data.get("instrument_name") != name:
                raise _Malformed(f"{channel}: instrument_name {data.get('instrument_name')!r}")
            if name in self.config.perpetuals:
                mark = _number(data, "mark_price")
                return lambda: self._report(FeedKind.PERP_MARK, f"deribit:{name}", mark, stamp)
            option = (stamp, _number(data, "mark_iv"), _number(data, "underlying_price"))
            return lambda: self._options.__setitem__(name, option)
        raise _Malformed(f"unsubscribed channel {channel!r}")

    def _on_ranking(self, channel: str, constituents: Any) -> None:
        """The index's constituent exchanges, each a spot source of its own (checked whole, then used)."""
        if not isinstance(constituents, list) or not constituents:
            raise _Malformed(f"{channel}: data is not a list of constituents")
        reports = []
        for entry in constituents:
            if not isinstance(entry, dict) or not isinstance(entry.get("identifier"), str):
                raise _Malformed(f"{channel}: a constituent without identifier")
            if entry.get("enabled") is True:
                reports.append((f"deribit:{entry['identifier']}", _number(entry, "price"), _timestamp_s(entry)))
        stamp = max((_timestamp_s(e) for e in constituents), default=0.0)
        if self._ordered(channel, stamp):
            for source, price, at in reports:
                self._report(FeedKind.SPOT, source, price, at)

    def _on_trades(self, channel: str, trades: Any) -> None:
        if not isinstance(trades, list):
            raise _Malformed(f"{channel}: data is not a list of trades")
        for trade in trades:
            if not isinstance(trade, dict) or not isinstance(trade.get("trade_seq"), int):
                raise _Malformed(f"{channel}: a trade without an integer trade_seq")
            seq, stamp = trade["trade_seq"], _timestamp_s(trade)
            # amounts of inverse perpetuals are in USD: the engine counts liquidations in the underlying
            liquidated = _number(trade, "amount") / _number(trade, "index_price") if trade.get("liquidation") else 0.0
            last = self._last_trade_seq.get(channel)
            if last is not None and seq <= last:
                self._reject(TickRejection.OUT_OF_ORDER, f"{channel}: trade_seq {seq} after {last}")
                continue
            if last is not None and seq > last + 1:
                self._gap(channel, f"trade_seq jumped from {last} to {seq}")
            if self.clock() - stamp > self.config.max_message_age_s:
                self._reject(TickRejection.STALE, f"{channel}: trade {seq} is {self.clock() - stamp:.3f}s old")
                continue
            self._last_trade_seq[channel] = seq
            self._newest = max(self._newest, stamp)
            self._liquidation += liquidated

    def _report(self, kind: FeedKind, source: str, value: float, stamp: float) -> None:
        self._reports[kind][source] = FeedQuote(source, value, stamp)

    # -- ticks

    def next_tick(self) -> MarketTick:
        """The next tick (see the module doc), once ``tick_s`` has passed and something new arrived.

        Raises TickRejected for each rejected message (the caller counts and goes on)."""
        while True:
            due = self._last_tick_at + self.config.tick_s
            wait = due - self.clock()
            fresh = self._newest > self._last_tick_stamp
            if wait <= 0 and fresh and self._drained and all(self._reports[k] for k in FeedKind):
                return self._tick()
            assert self._ws is not None
            try:
                # once due, only what has already arrived is read before the tick (the backlog drained)
                self._drained = False
                raw = self._ws.recv(timeout=max(wait, DRAIN_S))
            except TimeoutError:
                self._drained = True
                continue
            except ConnectionClosed as closed:
                log.warning("deribit connection closed", extra={"detail": str(closed)})
                self._reconnect()
                continue
            self._rejection = None
            message = self._parse(raw)
            if message is not None:
                self._handle(message)
            if self._rejection is not None:
                rejection, self._rejection = self._rejection, None
                raise rejection

    def _tick(self) -> MarketTick:
        now = self.clock()
        self._last_tick_at = now
        self._last_tick_stamp = self._newest
        feeds = {kind: list(reports.values()) for kind, reports in self._reports.items()}
        atm = self._atm_mark_iv()
        if atm is not None:
            feeds[FeedKind.IV_INDEX] = [*feeds[FeedKind.IV_INDEX], atm]
        smiles = None
        if now - self._last_refit_at >= self.config.refit_s:
            smiles = self._smiles(self._newest)
            if smiles:
                self._last_refit_at = now
        volume, self._liquidation = self._liquidation, 0.0
        return MarketTick(self._newest, feeds, volume, smiles or None)

    def _smiles(self, at: float) -> tuple[Smile, ...]:
        """Each expiry's smile from its options' latest mark_iv (expiries with >= 5 strikes)."""
        out = []
        for expiry in sorted({i.expiry for i in self.instruments}):
            points = [(i, self._options[i.name]) for i in self.instruments
                      if i.expiry == expiry and i.name in self._options]
            if len(points) < 5:
                continue
            t = (points[0][0].expiry_datetime().timestamp() - at) / YEAR_SECONDS
            if t <= 0:
                continue
            points.sort(key=lambda p: p[0].strike)
            k = np.array([math.log(i.strike / underlying) for i, (_, _, underlying) in points])
            vols = np.array([iv / 100.0 for _, (_, iv, _) in points])
            out.append((t, k, vols))
        return tuple(out)

    def _atm_mark_iv(self) -> FeedQuote | None:
        """The mark vol of the option nearest the money in the expiry closest to 30 days (DVOL's tenor)."""
        if not self._options:
            return None
        now = datetime.fromtimestamp(self.clock(), tz=timezone.utc)
        quoted = [i for i in self.instruments if i.name in self._options]
        if not quoted:
            return None
        expiry = min({i.expiry for i in quoted},
                     key=lambda e: abs(next(i for i in quoted if i.expiry == e).time_to_expiry(now) - 30 / 365))
        name, (stamp, iv, _) = min(((i.name, self._options[i.name]) for i in quoted if i.expiry == expiry),
                                   key=lambda p: abs(math.log(parse_instrument_name(p[0]).strike / p[1][2])))
        return FeedQuote("deribit:atm_mark_iv", iv / 100.0, stamp)

    def close(self) -> None:
        self._connection.close()
        self._ws = None
