"""Which keys may be used for what: refusing keys nobody should trust.

Groth16 is only as sound as its setup's secrets are unknown. Some keys show on
their face that the secrets are known:
  - gamma = delta: then [C]_1 can absorb the public inputs' term, and a "proof" of
    any public inputs is built from the verifying key alone (tried: Python and the
    on-chain verifier both accept it);
  - delta = [1]_2, the G2 generator: delta = 1, the value snarkjs's `groth16 setup`
    leaves until a phase-2 contribution replaces it;
  - a snarkjs zkey with no phase-2 contribution (prover.zkey refuses it on reading).
gamma = [1]_2 is normal (snarkjs never randomises gamma) and stays accepted.

Such a key is refused for proving and exporting unless it is flagged as a
development key (VerifyingKey.is_development); a development key is refused for
deployment anywhere but a local devnet (require_deployable).
"""

from __future__ import annotations

from bn254.constants import G2_GENERATOR
from prover.errors import UntrustedKey
from prover.keys import VerifyingKey


def untrusted_reasons(vk: VerifyingKey) -> list[str]:
    """Why nobody should trust vk's setup, read off the key itself (empty when nothing shows)."""
    reasons = []
    if vk.gamma_g2 == vk.delta_g2:
        reasons.append("gamma = delta, so a proof of any public inputs can be made from the verifying key alone")
    if vk.delta_g2 == G2_GENERATOR:
        reasons.append("delta is the G2 generator (delta = 1, no phase-2 contribution)")
    return reasons


def require_usable(vk: VerifyingKey, use: str) -> None:
    """Raise UntrustedKey when vk shows a known secret and is not flagged as a development key.

    `use` says what was attempted ("prove", "export a .zkey", ...) for the message.
    """
    reasons = untrusted_reasons(vk)
    if reasons and not vk.is_development:
        raise UntrustedKey(
            f"refusing to {use} with a key nobody should trust: {'; '.join(reasons)} "
            f"(setup: {vk.setup}); only a key flagged as a development key may, and only on a local devnet"
        )


def require_deployable(vk: VerifyingKey, *, local_devnet: bool) -> None:
    """Raise UntrustedKey unless vk may back a verifier on this chain.

    A development key (or any key nobody should trust) goes on a local devnet only.
    """
    require_usable(vk, "deploy a verifier")
    if vk.is_development and not local_devnet:
        raise UntrustedKey(
            f"refusing to deploy a development key ({vk.setup}) anywhere but a local devnet: "
            "use a key from a phase-2 ceremony (snarkjs zkey contribute) for any other chain"
        )
