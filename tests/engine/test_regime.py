import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import InvalidInput
from engine.regime import (
    HamiltonFilter,
    Regime,
    RegimeConfig,
    RegimeDetector,
    VolRegimeModel,
    classify_regimes,
    fit_vol_regime_model,
    high_vol_probability,
)

LOW_SD, HIGH_SD = 0.001, 0.003


def two_state_path(n=3000, stay=0.99, seed=1):
    rng = np.random.default_rng(seed)
    flips = rng.random(n) > stay
    states = np.cumsum(flips) % 2
    returns = rng.normal(0.0, np.where(states == 1, HIGH_SD, LOW_SD))
    return states, returns


@pytest.fixture(scope="module")
def fitted():
    states, returns = two_state_path()
    return states, returns, fit_vol_regime_model(returns)


def test_fit_recovers_the_two_variances(fitted):
    _, _, model = fitted
    assert model.stds[0] == pytest.approx(LOW_SD, rel=0.1)
    assert model.stds[1] == pytest.approx(HIGH_SD, rel=0.1)
    assert model.transition[0][0] > 0.97 and model.transition[1][1] > 0.97


def test_clipping_separates_vol_states_when_returns_jump():
    states, returns = two_state_path(seed=3)
    rng = np.random.default_rng(4)
    jumps = np.where(rng.random(returns.size) < 0.01, rng.normal(0, 0.03, returns.size), 0.0)
    noisy = returns + jumps
    plain = fit_vol_regime_model(noisy)
    clipped = fit_vol_regime_model(noisy, clip_mads=3.0)
    assert plain.stds[1] > 1.5 * HIGH_SD  # without clipping the jumps inflate the "high" state
    assert clipped.stds[1] == pytest.approx(HIGH_SD, rel=0.15)
    cfg = RegimeConfig(cascade_drawdown=1.0)

    def accuracy(model):
        high = np.array([r is Regime.HIGH_VOL for r in classify_regimes(model, noisy, config=cfg)])
        return np.mean(high == (states == 1))

    assert accuracy(clipped) > 0.88
    assert accuracy(clipped) > accuracy(plain) + 0.05


def test_online_filter_matches_statsmodels(fitted):
    from statsmodels.tsa.regime_switching.markov_regression import MarkovRegression

    _, returns, model = fitted
    scale = np.std(returns)
    mod = MarkovRegression(returns / scale, k_regimes=2, trend="c", switching_variance=True)
    p = mod.param_names
    values = {
        "p[0->0]": model.transition[0][0],
        "p[1->0]": model.transition[1][0],
        "const[0]": model.means[0] / scale,
        "const[1]": model.means[1] / scale,
        "sigma2[0]": (model.stds[0] / scale) ** 2,
        "sigma2[1]": (model.stds[1] / scale) ** 2,
    }
    reference = mod.filter(np.array([values[name] for name in p])).filtered_marginal_probabilities[:, 1]
    np.testing.assert_allclose(high_vol_probability(model, returns), reference, atol=1e-9)


def test_classification_accuracy_on_switching_data(fitted):
    states, returns, model = fitted
    labels = classify_regimes(model, returns)
    predicted_high = np.array([r is Regime.HIGH_VOL for r in labels])
    assert np.mean(predicted_high == (states == 1)) > 0.9


def test_out_of_sample_accuracy(fitted):
    _, _, model = fitted
    states, returns = two_state_path(seed=7)
    predicted_high = np.array([r is Regime.HIGH_VOL for r in classify_regimes(model, returns)])
    assert np.mean(predicted_high == (states == 1)) > 0.9


MODEL = VolRegimeModel(means=(0.0, 0.0), stds=(LOW_SD, HIGH_SD), transition=((0.99, 0.01), (0.01, 0.99)))


def test_flapping_input_does_not_flap():
    # Six calm steps, two wild ones, repeated: the filtered probability crosses both
    # thresholds every block; the label must not follow it.
    block = np.concatenate([np.zeros(6), np.full(2, 0.004)])
    returns = np.tile(block, 60) * np.where(np.arange(480) % 2, 1.0, -1.0)
    cfg = RegimeConfig(min_dwell_steps=20, cascade_drawdown=1.0)
    probs = high_vol_probability(MODEL, returns)
    raw_switches = np.sum(np.diff((probs >= cfg.enter_high_prob).astype(int)) != 0)
    assert raw_switches > 100  # the raw signal really does flap
    labels = classify_regimes(MODEL, returns, config=cfg)
    switches = sum(a is not b for a, b in zip(labels, labels[1:]))
    assert 0 < switches <= len(returns) // cfg.min_dwell_steps


@settings(max_examples=30, deadline=None)
@given(
    data=st.lists(st.sampled_from([0.0, 0.0005, -0.0005, 0.004, -0.004, 0.008]), min_size=50, max_size=300),
    dwell=st.integers(2, 15),
)
def test_every_vol_regime_lasts_at_least_min_dwell(data, dwell):
    cfg = RegimeConfig(min_dwell_steps=dwell, cascade_drawdown=10.0)  # no cascades here
    labels = classify_regimes(MODEL, data, config=cfg)
    runs = []
    current = 1
    for a, b in zip(labels, labels[1:]):
        if a is b:
            current += 1
        else:
            runs.append(current)
            current = 1
    assert Regime.LIQUIDATION_CASCADE not in labels
    # The first run starts at step 0; each later completed run lasts >= dwell steps.
    assert all(r >= dwell for r in runs[1:])
    if runs:
        assert runs[0] >= dwell


def test_liquidation_spike_enters_cascade_and_leaves_after_dwell():
    rng = np.random.default_rng(2)
    n = 200
    returns = rng.normal(0, LOW_SD, n)
    liq = rng.lognormal(np.log(100.0), 0.3, n)
    liq[100:105] = 20000.0  # a burst of forced liquidations
    cfg = RegimeConfig(min_cascade_steps=10)
    detector = RegimeDetector(MODEL, cfg)
    readings = [detector.update(float(r), float(v)) for r, v in zip(returns, liq)]
    regimes = [x.regime for x in readings]
    assert Regime.LIQUIDATION_CASCADE not in regimes[:100]
    assert regimes[100] is Regime.LIQUIDATION_CASCADE
    assert readings[100].liquidation_z > cfg.cascade_enter_z
    cascade_steps = [i for i, r in enumerate(regimes) if r is Regime.LIQUIDATION_CASCADE]
    assert len(cascade_steps) >= cfg.min_cascade_steps
    assert max(cascade_steps) < 130  # it ends once the volume is back to normal
    assert regimes[max(cascade_steps) + 1] is Regime.HIGH_VOL


def test_fast_drawdown_enters_cascade_without_liquidation_data():
    returns = np.concatenate([np.zeros(50), np.full(10, -0.004)])
    labels = classify_regimes(MODEL, returns, config=RegimeConfig(cascade_drawdown=0.03))
    assert labels[49] is not Regime.LIQUIDATION_CASCADE
    assert Regime.LIQUIDATION_CASCADE in labels[50:]


def test_filter_survives_huge_jump():
    f = HamiltonFilter(MODEL)
    assert f.update(0.5) == pytest.approx(1.0)
    assert np.isfinite(f.posterior).all()


def test_bad_input():
    with pytest.raises(InvalidInput) as info:
        fit_vol_regime_model(np.zeros(10))
    assert info.value.field == "returns"
    with pytest.raises(InvalidInput) as info:
        RegimeConfig(enter_high_prob=0.2, exit_high_prob=0.5)
    assert info.value.field == "exit_high_prob"
    with pytest.raises(InvalidInput) as info:
        RegimeDetector(MODEL).update(0.0, -1.0)
    assert info.value.field == "liquidation_volume"
    with pytest.raises(InvalidInput) as info:
        VolRegimeModel((0, 0), (0.01, 0.02), ((0.5, 0.6), (0.5, 0.5)))
    assert info.value.field == "transition"
