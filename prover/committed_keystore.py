"""Committed Groth16 keys that persist, saved by fingerprint next to plain keys (prover.keystore).

    <DLPE cache folder>/keys/<fingerprint>/
        circuit.zkey             the Groth16 proving key (identity at the committed wires' l_query)
        verification_key.json   snarkjs's format with "dlpe_commitment" (prover.committed_formats)
        commitment_key.json     the committed wires, the blinding wire and the Pedersen key
        fingerprint

The fingerprint is the SHA-256 of the .r1cs encoding followed by the committed wires and
the blinding wire: the same circuit committed otherwise gets other keys. The keys are
development keys (prover.committed_keys.COMMITMENT_SETUP): sigma is no ceremony's.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from bn254.iden3 import r1cs_bytes
from bn254.r1cs import R1CS
from prover.backends import Backend
from prover.committed import setup_committed
from prover.committed_formats import (
    commitment_key_from_json,
    commitment_key_to_json,
    committed_verifying_key_from_json,
    committed_verifying_key_to_json,
)
from prover.committed_keys import CommittedProvingKey, CommittedVerifyingKey
from prover.errors import KeyFormatError, StaleKey
from prover.keystore import FINGERPRINT_FILE, VK_FILE, ZKEY_FILE, keys_folder
from prover.progress import Progress, report
from prover.zkey import read_zkey, write_zkey

COMMITMENT_KEY_FILE = "commitment_key.json"


def committed_fingerprint(r1cs: R1CS, committed_wires: Sequence[int], blinding_wire: int) -> str:
    """SHA-256 (hex) of the .r1cs encoding, the committed wires and the blinding wire."""
    digest = hashlib.sha256(r1cs_bytes(r1cs))
    digest.update(json.dumps({"committed": list(committed_wires), "blinding": blinding_wire}).encode())
    return digest.hexdigest()


def save_committed_keys(key: CommittedProvingKey, folder: Path, fingerprint: str) -> None:
    """Write the key's four files into `folder`, atomically (a reader never sees half a key)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_zkey(key.pk, staging / ZKEY_FILE)
        (staging / VK_FILE).write_text(json.dumps(committed_verifying_key_to_json(key.vk), indent=1) + "\n")
        ck = commitment_key_to_json(key.committed_wires, key.blinding_wire, key.basis, key.basis_sigma)
        (staging / COMMITMENT_KEY_FILE).write_text(json.dumps(ck) + "\n")
        (staging / FINGERPRINT_FILE).write_text(fingerprint + "\n")
        os.replace(staging, folder)  # fails when another process saved first: its keys stand
    except OSError:
        if not (folder / FINGERPRINT_FILE).is_file():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_committed_keys(folder: Path, r1cs: R1CS, committed_wires: Sequence[int], blinding_wire: int,
                        *, progress: Progress | None = None) -> tuple[CommittedProvingKey, CommittedVerifyingKey]:
    """The committed keys saved in `folder`; StaleKey when made for another system, KeyFormatError when unreadable."""
    expected = committed_fingerprint(r1cs, committed_wires, blinding_wire)
    try:
        saved = (folder / FINGERPRINT_FILE).read_text().strip()
        vk = committed_verifying_key_from_json(json.loads((folder / VK_FILE).read_text()))
        ck = commitment_key_from_json(json.loads((folder / COMMITMENT_KEY_FILE).read_text()))
    except (OSError, json.JSONDecodeError) as error:
        raise KeyFormatError(f"no readable committed keys in {folder}: {error}") from error
    if saved != expected:
        raise StaleKey(f"the keys in {folder} were made for {saved[:16]}…, not this committed system ({expected[:16]}…)")
    wires, blinding, basis, basis_sigma = ck
    if (wires, blinding) != (tuple(committed_wires), blinding_wire):
        raise KeyFormatError(f"{folder / COMMITMENT_KEY_FILE} commits to other wires than its fingerprint says")
    pk = read_zkey(folder / ZKEY_FILE, r1cs, development=vk.is_development, progress=progress)
    if replace(pk.vk, setup=vk.vk.setup) != vk.vk:
        raise KeyFormatError(f"{folder / ZKEY_FILE} and {folder / VK_FILE} hold different keys")
    key = CommittedProvingKey(pk=replace(pk, vk=vk.vk), vk=vk, committed_wires=wires, blinding_wire=blinding,
                              basis=basis, basis_sigma=basis_sigma)
    return key, vk


def committed_keys_for(
    r1cs: R1CS,
    committed_wires: Sequence[int],
    blinding_wire: int,
    *,
    progress: Progress | None = None,
    backend: Backend | None = None,
    cache_folder: Path | None = None,
) -> tuple[CommittedProvingKey, CommittedVerifyingKey, bool]:
    """(pk, vk, reused): the committed keys saved for this system, or a development setup's, saved now."""
    fingerprint = committed_fingerprint(r1cs, committed_wires, blinding_wire)
    folder = keys_folder(fingerprint, cache_folder)
    if (folder / FINGERPRINT_FILE).is_file():
        report(progress, f"keys: loading the saved committed keys {fingerprint[:12]}", 0.0)
        return (*load_committed_keys(folder, r1cs, committed_wires, blinding_wire, progress=progress), True)
    pk, vk = setup_committed(r1cs, committed_wires, blinding_wire, backend, progress=progress)
    report(progress, f"keys: saving them as {fingerprint[:12]}", 1.0)
    save_committed_keys(pk, folder, fingerprint)
    return pk, vk, False
