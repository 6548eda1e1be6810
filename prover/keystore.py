"""Keys that persist: development keys saved by circuit fingerprint in the DLPE cache folder.

A process that needs keys for a constraint system asks keys_for(r1cs): the keys
saved for that very system are read back, or a development setup runs once and
its keys are saved, so that every later run proves under the same verifying key
(and a deployed verifier stays valid). The folder is

    <bn254.cache.dlpe_cache_folder()>/keys/<fingerprint>/
        circuit.zkey             the proving key, snarkjs's format (snarkjs can prove with it)
        verification_key.json   snarkjs's format, with "dlpe_setup" saying where it came from
        fingerprint             the circuit fingerprint, checked on loading

The fingerprint is the SHA-256 of the system's iden3 .r1cs encoding: any change to
a constraint, a coefficient or the wire counts gives another folder, and a key
loaded for a system it was not made for is refused (StaleKey). A folder is
written under a temporary name and renamed into place, so a reader never sees
half a key.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

from bn254.cache import dlpe_cache_folder
from bn254.iden3 import r1cs_bytes
from bn254.r1cs import R1CS
from prover.backends import Backend
from prover.errors import KeyFormatError, StaleKey
from prover.formats import read_verification_key, write_verification_key
from prover.generator import setup
from prover.keys import ProvingKey, VerifyingKey
from prover.progress import Progress, report
from prover.zkey import read_zkey, write_zkey

ZKEY_FILE, VK_FILE, FINGERPRINT_FILE = "circuit.zkey", "verification_key.json", "fingerprint"


def circuit_fingerprint(r1cs: R1CS) -> str:
    """SHA-256 (hex) of the system's .r1cs encoding: equal fingerprints, equal constraint systems."""
    return hashlib.sha256(r1cs_bytes(r1cs)).hexdigest()


def keys_folder(fingerprint: str, cache_folder: Path | None = None) -> Path:
    """Where the keys of the system with this fingerprint are saved."""
    return (cache_folder or dlpe_cache_folder()) / "keys" / fingerprint


def save_keys(pk: ProvingKey, folder: Path, fingerprint: str) -> bool:
    """Write pk (as .zkey), its verifying key and the fingerprint into `folder`, atomically.

    False when another process saved keys for this circuit first: its keys stand, not pk."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        write_zkey(pk, staging / ZKEY_FILE)
        write_verification_key(pk.vk, staging / VK_FILE)
        (staging / FINGERPRINT_FILE).write_text(fingerprint + "\n")
        os.replace(staging, folder)  # fails when another process saved first: its keys stand
        return True
    except OSError:
        if not (folder / FINGERPRINT_FILE).is_file():
            raise
        return False
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_keys(folder: Path, r1cs: R1CS, *, progress: Progress | None = None) -> tuple[ProvingKey, VerifyingKey]:
    """The keys saved in `folder` for `r1cs`.

    Raises StaleKey when they were saved for another constraint system, KeyFormatError
    when the files are unreadable or disagree with each other.
    """
    try:
        saved = (folder / FINGERPRINT_FILE).read_text().strip()
    except OSError as error:
        raise KeyFormatError(f"no saved keys in {folder}: {error}") from error
    expected = circuit_fingerprint(r1cs)
    if saved != expected:
        raise StaleKey(
            f"the keys in {folder} were made for the circuit {saved[:16]}…, not this one ({expected[:16]}…): "
            "the circuit changed since; use keys_for(r1cs) to get keys for it"
        )
    vk = read_verification_key(folder / VK_FILE)
    pk = read_zkey(folder / ZKEY_FILE, r1cs, development=vk.is_development, progress=progress)
    if replace(pk.vk, setup=vk.setup) != vk:
        raise KeyFormatError(f"{folder / ZKEY_FILE} and {folder / VK_FILE} hold different keys")
    pk = replace(pk, vk=vk)
    return pk, vk


def keys_for(
    r1cs: R1CS,
    *,
    progress: Progress | None = None,
    backend: Backend | None = None,
    cache_folder: Path | None = None,
) -> tuple[ProvingKey, VerifyingKey, bool]:
    """(pk, vk, reused): the keys saved for `r1cs`, or a development setup's, saved now.

    reused is True when the keys were read from the cache folder (default
    bn254.cache.dlpe_cache_folder()). `progress` (prover.progress) hears of loading
    or of the setup's stages.
    """
    fingerprint = circuit_fingerprint(r1cs)
    folder = keys_folder(fingerprint, cache_folder)
    if (folder / FINGERPRINT_FILE).is_file():
        report(progress, f"keys: loading the saved keys {fingerprint[:12]}", 0.0)
        pk, vk = load_keys(folder, r1cs, progress=progress)
        return pk, vk, True
    pk, vk = setup(r1cs, backend, progress=progress)
    report(progress, f"keys: saving them as {fingerprint[:12]}", 1.0)
    if not save_keys(pk, folder, fingerprint):
        # Another process saved its keys for this circuit meanwhile: use those, so that every
        # process (a service and its prover workers, say) proves and verifies with one key.
        pk, vk = load_keys(folder, r1cs, progress=progress)
        return pk, vk, True
    return pk, vk, False
