"""snarkjs JSON formats (verification_key.json, proof.json, public.json) and EIP-197 calldata.

snarkjs writes numbers as decimal strings and points in projective form with
z = 1 (z = 0 for the point at infinity, written [0, 1, 0]):
  G1: ["x", "y", "1"]
  G2: [["x.c0", "x.c1"], ["y.c0", "y.c1"], ["1", "0"]]   (F_q2 elements as [c0, c1])
  G_T (vk_alphabeta_12): [[c00, c01, c02], [c10, c11, c12]], each an F_q2 [c0, c1],
      for the tower F_q12 = F_q6[w]/(w^2 - v), F_q6 = F_q2[v]/(v^3 - (9 + u)).
Ethereum orders F_q2 the other way round: EIP-197 encodes a G2 point as
(x.c1, x.c0, y.c1, y.c0), imaginary part first, and so does the Solidity
verifier snarkjs generates; `solidity_calldata` produces that order.

On reading, vk_alphabeta_12 is ignored (snarkjs does too, and recomputes the
pairing); the verifying key's points are checked to lie in their groups, since
verify() trusts its key. Proof points are only parsed here: verify() checks them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from py_ecc import optimized_bn128 as bn

from bn254.constants import BN254_U, G1_INFINITY, G2_INFINITY, G1Affine, G2Affine, Q
from bn254.curve import g1_to_py_ecc, g2_to_py_ecc, validate_g1, validate_g2
from prover.errors import KeyFormatError
from prover.keys import UNKNOWN_SETUP, Proof, VerifyingKey
from prover.trust import require_usable

PROTOCOL = "groth16"
CURVE = "bn128"
"""snarkjs's name of BN254."""

_DECIMAL = re.compile(r"-?[0-9]+")


# -- numbers and points ------------------------------------------------------------------


def _decimal(value: Any, what: str) -> int:
    if not isinstance(value, str) or not _DECIMAL.fullmatch(value):
        raise KeyFormatError(f"{what}: expected a decimal string, got {value!r}")
    return int(value)


def _list(value: Any, length: int, what: str) -> list:
    if not isinstance(value, list) or len(value) != length:
        raise KeyFormatError(f"{what}: expected a list of {length}, got {value!r}")
    return value


def g1_to_json(p: G1Affine) -> list[str]:
    """snarkjs form of a G1 point: ["x", "y", "1"], or ["0", "1", "0"] for infinity."""
    if p == G1_INFINITY:
        return ["0", "1", "0"]
    return [str(p[0]), str(p[1]), "1"]


def g2_to_json(p: G2Affine) -> list[list[str]]:
    """snarkjs form of a G2 point: [[x.c0, x.c1], [y.c0, y.c1], ["1", "0"]] (c0 first)."""
    if p == G2_INFINITY:
        return [["0", "0"], ["1", "0"], ["0", "0"]]
    (x0, x1), (y0, y1) = p
    return [[str(x0), str(x1)], [str(y0), str(y1)], ["1", "0"]]


def g1_from_json(value: Any, what: str) -> G1Affine:
    """The affine point of a snarkjs G1 [x, y, z] with z in {0, 1} (coordinates not range-checked)."""
    x, y, z = (_decimal(v, what) for v in _list(value, 3, what))
    if z == 0:
        return G1_INFINITY
    if z != 1:
        raise KeyFormatError(f"{what}: z = {z}; snarkjs writes affine points (z = 1) or infinity (z = 0)")
    return (x, y)


def g2_from_json(value: Any, what: str) -> G2Affine:
    """The affine point of a snarkjs G2 [[x0, x1], [y0, y1], [z0, z1]] with z in {0, 1}."""
    (x0, x1), (y0, y1), z = ([_decimal(v, what) for v in _list(c, 2, what)] for c in _list(value, 3, what))
    if z == [0, 0]:
        return G2_INFINITY
    if z != [1, 0]:
        raise KeyFormatError(f"{what}: z = {z}; snarkjs writes affine points (z = 1) or infinity (z = 0)")
    return ((x0, x1), (y0, y1))


def gt_to_json(f: Any) -> list[list[list[str]]]:
    """snarkjs form of a py_ecc FQ12 element, converted to the F_q2/F_q6/F_q12 tower.

    py_ecc writes F_q12 as F_q[w]/(w^12 - 18 w^6 + 82); the tower's u is w^6 - 9
    (u^2 = -1) and v = w^2, so the tower coefficient (a + b*u) of w^i v^j, e = i + 2j,
    sits in py_ecc's coefficients as c_e = a - 9b, c_(e+6) = b.
    """
    c = [int(x) for x in f.coeffs]
    return [
        [[str((c[i + 2 * j] + 9 * c[i + 2 * j + 6]) % Q), str(c[i + 2 * j + 6])] for j in range(3)]
        for i in range(2)
    ]


SNARKJS_GT_EXPONENT = 2 * BN254_U * (6 * BN254_U**2 + 3 * BN254_U + 1)
"""snarkjs's pairing is py_ecc's raised to this power.

ffjavascript's final exponentiation computes the hard part as Fuentes-Castaneda,
Knapp and Rodriguez-Henriquez do ("Faster hashing to G2", SAC 2011),
which yields f^(m (q^12-1)/r) with m = 2u(6u^2 + 3u + 1), not f^((q^12-1)/r).
Both are non-degenerate bilinear pairings; only the G_T values written to JSON differ.
"""


def alpha_beta_pairing(vk: VerifyingKey) -> Any:
    """snarkjs's vk_alphabeta_12: e(alpha, beta) as snarkjs computes it (a py_ecc FQ12)."""
    return bn.pairing(g2_to_py_ecc(vk.beta_g2), g1_to_py_ecc(vk.alpha_g1)) ** SNARKJS_GT_EXPONENT


# -- verification_key.json ---------------------------------------------------------------


def verifying_key_to_json(vk: VerifyingKey) -> dict[str, Any]:
    """The snarkjs verification_key.json object of vk, plus "dlpe_setup" (ignored by snarkjs)."""
    return {
        "protocol": PROTOCOL,
        "curve": CURVE,
        "nPublic": vk.n_public,
        "vk_alpha_1": g1_to_json(vk.alpha_g1),
        "vk_beta_2": g2_to_json(vk.beta_g2),
        "vk_gamma_2": g2_to_json(vk.gamma_g2),
        "vk_delta_2": g2_to_json(vk.delta_g2),
        "vk_alphabeta_12": gt_to_json(alpha_beta_pairing(vk)),
        "IC": [g1_to_json(p) for p in vk.gamma_abc_g1],
        "dlpe_setup": vk.setup,
    }


def verifying_key_from_json(data: Any) -> VerifyingKey:
    """Parse and check a snarkjs verification key: groth16 on bn128, every point in its group."""
    if not isinstance(data, dict):
        raise KeyFormatError("a verification key is a JSON object")
    if data.get("protocol") != PROTOCOL or data.get("curve") != CURVE:
        raise KeyFormatError(f"not a {PROTOCOL}/{CURVE} key: {data.get('protocol')!r}/{data.get('curve')!r}")
    ic_json, n_public = data.get("IC"), data.get("nPublic")
    if not isinstance(ic_json, list) or not ic_json:
        raise KeyFormatError("IC must be a non-empty list of G1 points")
    try:
        vk = VerifyingKey(
            alpha_g1=g1_from_json(data["vk_alpha_1"], "vk_alpha_1"),
            beta_g2=g2_from_json(data["vk_beta_2"], "vk_beta_2"),
            gamma_g2=g2_from_json(data["vk_gamma_2"], "vk_gamma_2"),
            delta_g2=g2_from_json(data["vk_delta_2"], "vk_delta_2"),
            gamma_abc_g1=tuple(g1_from_json(p, f"IC[{i}]") for i, p in enumerate(ic_json)),
            setup=str(data.get("dlpe_setup", UNKNOWN_SETUP)),
        )
    except KeyError as error:
        raise KeyFormatError(f"verification key lacks {error}") from error
    if not isinstance(n_public, int) or isinstance(n_public, bool) or n_public != vk.n_public:
        raise KeyFormatError(f"nPublic = {n_public!r} but IC holds {len(vk.gamma_abc_g1)} points")
    validate_g1(vk.alpha_g1, "vk_alpha_1")
    for name, point in (("vk_beta_2", vk.beta_g2), ("vk_gamma_2", vk.gamma_g2), ("vk_delta_2", vk.delta_g2)):
        validate_g2(point, name)
    for i, point in enumerate(vk.gamma_abc_g1):
        validate_g1(point, f"IC[{i}]")
    return vk


# -- proof.json and public.json ------------------------------------------------------------


def proof_to_json(proof: Proof) -> dict[str, Any]:
    """The snarkjs proof.json object."""
    return {
        "pi_a": g1_to_json(proof.a),
        "pi_b": g2_to_json(proof.b),
        "pi_c": g1_to_json(proof.c),
        "protocol": PROTOCOL,
        "curve": CURVE,
    }


def proof_from_json(data: Any) -> Proof:
    """Parse a snarkjs proof (shape only: verify() checks the points)."""
    if not isinstance(data, dict):
        raise KeyFormatError("a proof is a JSON object")
    if data.get("protocol", PROTOCOL) != PROTOCOL or data.get("curve", CURVE) != CURVE:
        raise KeyFormatError(f"not a {PROTOCOL}/{CURVE} proof")
    try:
        return Proof(
            a=g1_from_json(data["pi_a"], "pi_a"),
            b=g2_from_json(data["pi_b"], "pi_b"),
            c=g1_from_json(data["pi_c"], "pi_c"),
        )
    except KeyError as error:
        raise KeyFormatError(f"proof lacks {error}") from error


def public_to_json(values: Sequence[int]) -> list[str]:
    """snarkjs public.json: the public signals as decimal strings, outputs first."""
    return [str(v) for v in values]


def public_from_json(data: Any) -> list[int]:
    """The public signals of a public.json (range checks are verify()'s job)."""
    if not isinstance(data, list):
        raise KeyFormatError("public.json holds a list of decimal strings")
    return [_decimal(v, f"public[{i}]") for i, v in enumerate(data)]


def _write(obj: Any, path: str | Path) -> None:
    Path(path).write_text(json.dumps(obj, indent=1) + "\n")


def _read(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise KeyFormatError(f"{path}: not JSON ({error})") from error


def write_verification_key(vk: VerifyingKey, path: str | Path) -> None:
    """Write vk as snarkjs verification_key.json; a key nobody should trust must be flagged (prover.trust)."""
    require_usable(vk, "export a verifying key")
    _write(verifying_key_to_json(vk), path)


def read_verification_key(path: str | Path) -> VerifyingKey:
    """Read and check a snarkjs verification_key.json."""
    return verifying_key_from_json(_read(path))


def write_proof(proof: Proof, path: str | Path) -> None:
    """Write a proof as snarkjs proof.json."""
    _write(proof_to_json(proof), path)


def read_proof(path: str | Path) -> Proof:
    """Read a snarkjs proof.json."""
    return proof_from_json(_read(path))


def write_public(values: Sequence[int], path: str | Path) -> None:
    """Write public signals as snarkjs public.json."""
    _write(public_to_json(values), path)


def read_public(path: str | Path) -> list[int]:
    """Read a snarkjs public.json."""
    return public_from_json(_read(path))


# -- Solidity / EIP-197 calldata -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SolidityCalldata:
    """Arguments of the snarkjs-generated `verifyProof(uint[2] a, uint[2][2] b, uint[2] c, uint[n] input)`.

    a, c: G1 points (x, y). b: the G2 point in EIP-197 order ((x.c1, x.c0), (y.c1, y.c0)),
    imaginary part first, the reverse of snarkjs JSON. public_signals: outputs, then inputs.
    The point at infinity is (0, 0), as EIP-196/197 encode it.
    """

    a: tuple[int, int]
    b: tuple[tuple[int, int], tuple[int, int]]
    c: tuple[int, int]
    public_signals: tuple[int, ...]


def solidity_calldata(proof: Proof, public_signals: Sequence[int]) -> SolidityCalldata:
    """The calldata of `snarkjs zkey export soliditycalldata` for this proof, as integers."""
    (x0, x1), (y0, y1) = proof.b
    return SolidityCalldata(
        a=proof.a,
        b=((x1, x0), (y1, y0)),
        c=proof.c,
        public_signals=tuple(public_signals),
    )
