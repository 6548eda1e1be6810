"""The prover workers' pickled copy of the keys is named by the circuit, the verifying key and the
prover's code: a copy written by other prover code (whose classes may have changed shape) is replaced,
never unpickled into objects the prover no longer understands."""

from __future__ import annotations

import pickle

from solver.book_plan import BookSpec
from solver.service import proving


def test_a_copy_written_by_other_prover_code_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(proving, "pickled_code_sha256", lambda: "a" * 64)
    old = proving.circuit_keys(BookSpec().capacity, tmp_path)
    monkeypatch.setattr(proving, "pickled_code_sha256", lambda: "b" * 64)
    new = proving.circuit_keys(BookSpec().capacity, tmp_path)
    assert new.path != old.path and new.path.parent == old.path.parent
    assert not old.path.exists()  # the other code's copy is gone
    assert [p.name for p in new.path.parent.glob("keys-*.pickle")] == [new.path.name]
    with open(new.path, "rb") as f:
        proving_key, verifying_key = pickle.load(f)
    assert verifying_key == new.verifying_key and proving_key.vk == new.verifying_key


def test_the_source_digest_changes_with_any_source_file(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.py").write_text("B = 2\n")
    before = proving.source_sha256(package)
    assert proving.source_sha256(package) == before
    (package / "sub" / "b.py").write_text("B = 3\n")
    assert proving.source_sha256(package) != before
