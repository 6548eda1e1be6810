"""Request and response bodies of the service API (pydantic). Every number of a request is
bounded and finite (allow_inf_nan=False), so a bad request is a 422 naming the field before any
engine code runs."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Finite = dict(allow_inf_nan=False)
Positive = Annotated[float, Field(gt=0, le=1e9, **Finite)]


class OptionToPrice(BaseModel):
    """One option: strike (currency), time to expiry (years), vol (decimal) and/or a market price."""

    model_config = ConfigDict(extra="forbid")

    strike: Annotated[float, Field(gt=0, le=1e9, **Finite, description="strike, currency")]
    t: Annotated[float, Field(gt=0, le=10, **Finite, description="time to expiry, years")]
    is_call: bool
    vol: Annotated[float | None, Field(default=None, gt=0, le=10, **Finite,
                                       description="annualised vol; needed for price and Greeks")]
    market_price: Annotated[float | None, Field(default=None, gt=0, le=1e9, **Finite,
                                                description="option price whose implied vol is wanted")]


class PriceRequest(BaseModel):
    """Options on one underlying, priced together on the float64 fast path."""

    model_config = ConfigDict(extra="forbid")

    spot: Annotated[float, Field(gt=0, le=1e9, **Finite, description="underlying price")]
    rate: Annotated[float, Field(0.0, ge=-1, le=1, **Finite, description="continuous rate, per year")]
    carry: Annotated[float, Field(0.0, ge=-1, le=1, **Finite, description="continuous carry (dividend), per year")]
    options: Annotated[list[OptionToPrice], Field(min_length=1, max_length=10_000)]


class PricedOption(BaseModel):
    price: float | None
    delta: float | None
    gamma: float | None
    vega: float | None
    theta: float | None
    implied_vol: float | None


class PriceResponse(BaseModel):
    options: list[PricedOption]
    seconds: float


class QuoteOut(BaseModel):
    """An engine quote; ``proven`` says whether a batch accepted by the vault carries it."""

    instrument: str
    bid: float
    ask: float
    bid_size: float
    ask_size: float
    mid: float
    vol: float
    regime: str
    proven: bool
    batch_id: int | None
    proven_bid: float | None
    proven_ask: float | None


class QuotesOut(BaseModel):
    timestamp: float | None
    spot: float | None
    regime: str | None
    withheld: str | None
    quotes: list[QuoteOut]


class RiskOut(BaseModel):
    timestamp: float | None
    regime: str | None
    breaker: str | None
    net_delta: float | None
    net_gamma: float | None
    net_vega: float | None
    var: float | None
    worst_scenario_loss: float | None
    capital_utilization: float | None


class BatchOut(BaseModel):
    id: int
    state: Literal["queued", "proving", "proved", "submitted", "accepted", "rejected"]
    nonce: int
    expiry: int
    instruments: list[str]
    created: float
    updated: float
    attempts: int
    tx_hash: str | None
    gas_used: int | None
    block_number: int | None
    error: str | None
    timings: dict[str, float]


class BatchDetail(BatchOut):
    proof: dict | None
    public_inputs: list[str] | None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    feed: str
    ticks_accepted: int
    ticks_rejected: dict[str, int]
    last_tick_age_s: float | None
    chain_id: int
    vault: str
    node_ok: bool
    batches: dict[str, int]
    uptime_s: float


class ErrorOut(BaseModel):
    detail: str
