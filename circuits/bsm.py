"""Black-Scholes-Merton and the SVI smile as constraints: engine/fixed.py's bsm_fixed_svi, step by step.

Each function here repeats the engine function of the same name, one gadget per
rounded operation, so the proven outputs are the engine's integers. Bounds passed to
the gadgets come from the engine's declared input domain (engine.fixed.*_MIN/_MAX);
they only size the range checks, which is what enforces them.
"""

from __future__ import annotations

from dataclasses import dataclass

from circuits.builder import ConstraintSystem
from circuits.gadgets import fixed as gf
from circuits.gadgets import transcendental as gt
from circuits.gadgets.fixed import Fixed
from circuits.gadgets.select import select
from circuits.lc import Boolean
from engine import fixed as fx

ONE = fx.ONE
F = fx.FRAC_BITS
LN_MONEYNESS_MAX = 3 * ONE  # |ln(K/S)| <= ln 16 < 3
D_MAX = 1 << (F + 19)  # |k| <= 3 + |r - q|·t <= 7, over TOTAL_VOL_MIN = 2^-16: 7·2^16 < 2^19
RATE_T_WINDOW = (-2 * ONE, 2 * ONE - 1)  # r·t in [-2, 2]: a power-of-two-wide window, exact check


def _exp_bounds(lo: int, hi: int) -> tuple[int, int]:
    """Bounds on fx.exp over [lo, hi], widened by a few ulps of rounding (exp is monotone to within 2 ulps)."""
    return max(0, fx.exp(lo) - 4), fx.exp(hi) + 4 + (fx.exp(hi) >> 44)


@dataclass(frozen=True)
class ExpiryWires:
    """fx.ExpiryTerms on wires: t, sqrt(t), e^{-rt}, e^{-qt}, (r - q)·t."""

    t: Fixed
    sqrt_t: Fixed
    disc_rate: Fixed
    disc_carry: Fixed
    drift: Fixed


def expiry_terms(cs: ConstraintSystem, t: Fixed, rate: Fixed, carry: Fixed) -> ExpiryWires:
    """fx.expiry_terms: inputs already bounded to the engine's domain (t in (0, 4], |r|, |q| <= 1/2)."""
    with cs.scope("expiry"):
        sqrt_t = gf.sqrt(cs, t, "sqrt_t")
        exp_bounds = _exp_bounds(-RATE_T_WINDOW[1], -RATE_T_WINDOW[0])
        disc_rate = gt.exp(cs, -gf.mul(cs, rate, t, RATE_T_WINDOW, "rate_t"), exp_bounds, "disc_rate")
        disc_carry = gt.exp(cs, -gf.mul(cs, carry, t, RATE_T_WINDOW, "carry_t"), exp_bounds, "disc_carry")
        drift = gf.mul(cs, rate - carry, t, name="drift")
    return ExpiryWires(t, sqrt_t, disc_rate, disc_carry, drift)


def forward_log_moneyness(cs: ConstraintSystem, spot: Fixed, strike: Fixed, terms: ExpiryWires) -> Fixed:
    """fx.forward_log_moneyness: k = ln(div(K, S)) - (r - q)·t; the quotient's range check enforces
    the engine's moneyness domain [1/16, 16] (from below exactly, from above to the next power of two)."""
    with cs.scope("log_moneyness"):
        moneyness = gf.div(cs, strike, spot, (fx.MONEYNESS_MIN, fx.MONEYNESS_MAX), "moneyness")
        log_m = gt.ln(cs, moneyness, (-LN_MONEYNESS_MAX, LN_MONEYNESS_MAX))
    return log_m - terms.drift


@dataclass(frozen=True)
class SVIWires:
    """fx.SVIFixed on wires, with mul(sigma, sigma), which every strike of the expiry uses."""

    a: Fixed
    b: Fixed
    rho: Fixed
    m: Fixed
    sigma: Fixed
    sigma_sq: Fixed


def svi_inputs(cs: ConstraintSystem, prefix: str, svi: fx.SVIFixed, *, public: bool) -> SVIWires:
    """Declare the five SVI parameters as inputs, each constrained to the engine's domain."""
    sigma = gf.fixed_input(cs, f"{prefix}sigma", svi.sigma, 1, fx.SVI_SIGMA_MAX, public=public)
    return SVIWires(
        gf.fixed_input(cs, f"{prefix}a", svi.a, fx.SVI_A_MIN, fx.SVI_A_MAX, public=public),
        gf.fixed_input(cs, f"{prefix}b", svi.b, 0, fx.SVI_B_MAX, public=public),
        gf.fixed_input(cs, f"{prefix}rho", svi.rho, -ONE + 1, ONE - 1, public=public),
        gf.fixed_input(cs, f"{prefix}m", svi.m, -fx.SVI_M_ABS_MAX, fx.SVI_M_ABS_MAX, public=public),
        sigma,
        gf.mul(cs, sigma, sigma, (0, sigma.hi ** 2 // ONE + 1), f"{prefix}sigma_squared"),
    )


def svi_total_variance(cs: ConstraintSystem, k: Fixed, svi: SVIWires) -> Fixed:
    """fx.svi_total_variance: w = a + b·(rho·(k - m) + sqrt((k - m)² + sigma²))."""
    with cs.scope("svi"):
        shifted = k - svi.m
        sq_hi = max(shifted.lo ** 2, shifted.hi ** 2) // ONE + 1
        square = gf.mul(cs, shifted, shifted, (0, sq_hi), "shifted_squared")
        root = gf.sqrt(cs, square + svi.sigma_sq, "root")
        skew = gf.mul(cs, svi.rho, shifted, name="rho_shifted")
        return svi.a + gf.mul(cs, svi.b, skew + root, name="b_times_wing")


@dataclass(frozen=True)
class BSMWires:
    """fx.FixedBSM on wires."""

    price: Fixed
    delta: Fixed
    gamma: Fixed
    vega: Fixed
    d1: Fixed
    d2: Fixed
    total_vol: Fixed


def bsm_from_total_vol(cs: ConstraintSystem, spot: Fixed, strike: Fixed, terms: ExpiryWires, k: Fixed,
                       total_vol: Fixed, is_call: Boolean) -> BSMWires:
    """fx.bsm_from_total_vol with the option type a Boolean wire (the put takes N(-d) = 1 - N(d)).

    total_vol must already be constrained >= fx.TOTAL_VOL_MIN (its bounds say so).
    """
    assert total_vol.lo >= fx.TOTAL_VOL_MIN, "total_vol must be bounded below by the engine's domain"
    with cs.scope("bsm"):
        d1 = gf.div(cs, -k, total_vol, (-D_MAX, D_MAX), "k_over_w") + gf.half(cs, total_vol, "half_w")
        d2 = d1 - total_vol
        arg_d1 = gt.normal_argument(cs, d1, "d1")
        arg_d2 = gt.normal_argument(cs, d2, "d2")
        cdf_d1 = gt.normal_cdf(cs, arg_d1, "cdf_d1")
        cdf_d2 = gt.normal_cdf(cs, arg_d2, "cdf_d2")
        spot_prob = _pick(cs, is_call, cdf_d1, ONE - cdf_d1.lc, "spot_prob")
        strike_prob = _pick(cs, is_call, cdf_d2, ONE - cdf_d2.lc, "strike_prob")
        carry_prob = gf.mul(cs, terms.disc_carry, spot_prob, name="carry_prob")
        spot_leg = gf.mul(cs, spot, carry_prob, name="spot_leg")
        strike_leg = gf.mul(cs, strike, gf.mul(cs, terms.disc_rate, strike_prob, name="rate_prob"), name="strike_leg")
        price = _signed(cs, is_call, spot_leg - strike_leg, "price")
        delta = _signed(cs, is_call, carry_prob, "delta")

        pdf_d1 = gt.normal_pdf(cs, arg_d1, "pdf_d1")
        carry_pdf = gf.mul(cs, terms.disc_carry, pdf_d1, name="carry_pdf")
        spot_w = gf.mul(cs, spot, total_vol, (fx.SPOT_MIN * fx.TOTAL_VOL_MIN >> F, (spot.hi * total_vol.hi >> F) + 1),
                        "spot_w")
        gamma_hi = (carry_pdf.hi << F) // spot_w.lo + 1
        gamma = gf.div(cs, carry_pdf, spot_w, (0, gamma_hi), "gamma")
        vega = gf.mul(cs, gf.mul(cs, spot, carry_pdf, name="spot_carry_pdf"), terms.sqrt_t, name="vega")
    return BSMWires(price, delta, gamma, vega, d1, d2, total_vol)


def _signed(cs: ConstraintSystem, is_call: Boolean, x: Fixed, name: str) -> Fixed:
    """is_call ? x : -x (a put's price and delta are the call formula's legs with the sign flipped)."""
    with cs.scope(name):
        lc = select(cs, is_call, x.lc, -x.lc)
    return Fixed(lc, min(x.lo, -x.hi), max(x.hi, -x.lo))


def _pick(cs: ConstraintSystem, is_call: Boolean, call: Fixed, put, name: str) -> Fixed:
    """is_call ? N(d) : 1 - N(d), keeping the union of both bounds."""
    with cs.scope(name):
        lc = select(cs, is_call, call.lc, put)
    return Fixed(lc, min(call.lo, ONE - call.hi), max(call.hi, ONE - call.lo))


def bsm_svi(cs: ConstraintSystem, spot: Fixed, strike: Fixed, terms: ExpiryWires, svi: SVIWires,
            is_call: Boolean) -> BSMWires:
    """fx.bsm_fixed_svi: k = ln(K/F), w = SVI(k) constrained > 0, total vol sqrt(w) constrained
    >= the engine's minimum, then Black-Scholes-Merton."""
    k = forward_log_moneyness(cs, spot, strike, terms)
    variance = svi_total_variance(cs, k, svi)
    with cs.scope("total_vol"):
        root = gf.sqrt(cs, gf.at_least(cs, variance, 1, "variance_positive"))
        total_vol = gf.at_least(cs, root, fx.TOTAL_VOL_MIN, "at_least_min")
    return bsm_from_total_vol(cs, spot, strike, terms, k, total_vol, is_call)
