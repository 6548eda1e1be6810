import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.bsm import bsm_price
from engine.errors import InvalidInput
from engine.trees import ExerciseStyle, binomial_crr_price, early_exercise_premium, trinomial_price

EU, AM = ExerciseStyle.EUROPEAN, ExerciseStyle.AMERICAN
HULL = dict(spot=50.0, strike=50.0, t=5 / 12, rate=0.10, vol=0.40, is_call=False)


@pytest.mark.parametrize("steps, value", [(5, 4.49), (30, 4.263), (50, 4.272), (100, 4.278), (500, 4.283)])
def test_hull_american_put(steps, value):
    # Hull, Options, Futures and Other Derivatives, Example 21.1 / Figure 21.3 and the step table after it.
    digits = 2 if steps == 5 else 3
    assert round(binomial_crr_price(**HULL, steps=steps), digits) == value


def test_trinomial_american_put_agrees_with_binomial_limit():
    assert trinomial_price(**HULL, steps=1000) == pytest.approx(4.2845, abs=2e-3)
    assert binomial_crr_price(**HULL, steps=2000) == pytest.approx(trinomial_price(**HULL, steps=1000), abs=2e-3)


@pytest.mark.parametrize("pricer", [binomial_crr_price, trinomial_price])
@pytest.mark.parametrize("is_call", [True, False])
def test_european_converges_to_bsm_at_rate_one_over_n(pricer, is_call):
    args = dict(HULL, is_call=is_call, carry=0.02)
    exact = bsm_price(50.0, 50.0, 5 / 12, 0.10, 0.40, is_call, 0.02)
    errors = [abs(pricer(**args, steps=n, style=EU) - exact) for n in (100, 400, 1600)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-3
    # O(1/N): quadrupling N cuts the error about four times (ATM, where CRR does not oscillate)
    assert 2.5 < errors[0] / errors[1] < 6 and 2.5 < errors[1] / errors[2] < 6


def test_american_put_has_early_exercise_premium():
    premium = early_exercise_premium(**HULL, steps=500)
    european = bsm_price(50.0, 50.0, 5 / 12, 0.10, 0.40, False)
    assert premium == pytest.approx(4.283 - european, abs=5e-3)
    assert premium > 0.2


def test_american_call_without_carry_is_european():
    # Merton (1973): never exercise an American call early on a non-dividend asset.
    args = dict(HULL, is_call=True)
    assert binomial_crr_price(**args, steps=300, style=AM) == pytest.approx(
        binomial_crr_price(**args, steps=300, style=EU), abs=1e-12
    )


@settings(max_examples=30, deadline=None)
@given(
    spot=st.floats(50, 150),
    strike=st.floats(50, 150),
    t=st.floats(0.05, 2.0),
    rate=st.floats(0.0, 0.1),
    carry=st.floats(0.0, 0.1),
    vol=st.floats(0.1, 1.0),
    is_call=st.booleans(),
)
def test_american_dominates_european_and_intrinsic(spot, strike, t, rate, carry, vol, is_call):
    american = trinomial_price(spot, strike, t, rate, vol, is_call, carry, steps=200, style=AM)
    european = trinomial_price(spot, strike, t, rate, vol, is_call, carry, steps=200, style=EU)
    intrinsic = max(spot - strike, 0.0) if is_call else max(strike - spot, 0.0)
    assert american >= european - 1e-12
    assert american >= intrinsic - 1e-12


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        binomial_crr_price(50.0, -1.0, 1.0, 0.05, 0.2, True)
    assert info.value.field == "strike"
    with pytest.raises(InvalidInput) as info:
        trinomial_price(50.0, 50.0, 1.0, 0.05, 0.2, True, steps=0)
    assert info.value.field == "steps"
    with pytest.raises(InvalidInput) as info:
        # rate - carry so large against vol that p leaves (0, 1) with a single step
        binomial_crr_price(50.0, 50.0, 1.0, 2.0, 0.05, True, steps=1)
    assert info.value.field == "steps"
