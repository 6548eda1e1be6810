from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.instruments import (
    OptionInstrument,
    OptionKind,
    format_instrument_name,
    parse_instrument_name,
)


def test_parse_deribit_name():
    inst = parse_instrument_name("BTC-27DEC24-60000-C")
    assert inst == OptionInstrument("BTC", date(2024, 12, 27), 60000.0, OptionKind.CALL)
    assert inst.is_call


def test_parse_single_digit_day_and_fractional_strike():
    inst = parse_instrument_name("XRP_USDC-5AUG24-0d625-P")
    assert inst.underlying == "XRP_USDC"
    assert inst.expiry == date(2024, 8, 5)
    assert inst.strike == 0.625
    assert inst.kind is OptionKind.PUT
    assert inst.name == "XRP_USDC-5AUG24-0d625-P"


@pytest.mark.parametrize(
    "name",
    [
        "BTC-27DEC24-60000",  # no kind
        "BTC-27DEC24-60000-X",  # bad kind
        "BTC-27DXC24-60000-C",  # bad month
        "BTC-31FEB24-60000-C",  # no such date
        "BTC-027DEC24-60000-C",  # leading zero in day
        "BTC-27DEC24-060000-C",  # leading zero in strike
        "BTC-27DEC24-0-C",  # zero strike
        "BTC-27DEC24-1d50-C",  # trailing zero in fraction
        "btc-27DEC24-60000-C",  # lower case
        "BTC-27DEC2024-60000-C",  # four-digit year
        "",
    ],
)
def test_malformed_names_raise_typed_error(name):
    with pytest.raises(InvalidInput) as info:
        parse_instrument_name(name)
    assert info.value.field == "name"


def test_non_string_name():
    with pytest.raises(InvalidInput):
        parse_instrument_name(12345)  # type: ignore[arg-type]


def test_instrument_validates_fields():
    with pytest.raises(InvalidInput) as info:
        OptionInstrument("BTC", date(2024, 12, 27), -1.0, OptionKind.CALL)
    assert info.value.field == "strike"
    with pytest.raises(InvalidInput) as info:
        OptionInstrument("BTC", date(2024, 12, 27), 1.0, "C")  # type: ignore[arg-type]
    assert info.value.field == "kind"


def test_time_to_expiry_is_act365_to_0800_utc():
    inst = parse_instrument_name("BTC-28DEC24-60000-C")
    now = datetime(2024, 12, 27, 8, 0, tzinfo=timezone.utc)
    assert inst.time_to_expiry(now) == pytest.approx(1.0 / 365.0, rel=1e-12)
    assert inst.time_to_expiry(now + timedelta(days=2)) == 0.0
    with pytest.raises(InvalidInput):
        inst.time_to_expiry(datetime(2024, 12, 27))


strikes = st.one_of(
    st.integers(min_value=1, max_value=10**7).map(float),
    st.integers(min_value=1, max_value=10**6).map(lambda n: n / 1000.0),
)


@given(
    underlying=st.sampled_from(["BTC", "ETH", "SOL_USDC", "XRP_USDC"]),
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    strike=strikes,
    kind=st.sampled_from(list(OptionKind)),
)
def test_round_trip(underlying, expiry, strike, kind):
    inst = OptionInstrument(underlying, expiry, strike, kind)
    name = format_instrument_name(inst)
    assert parse_instrument_name(name) == inst
    assert format_instrument_name(parse_instrument_name(name)) == name
