"""The BN254 ground floor that circuits/ and prover/ both stand on.

  constants  field and curve constants of BN254, checked at import
  field      F_r helpers on plain ints (signed embedding, inverses, square roots)
  curve      point encodings, py_ecc conversions and group-membership checks
  r1cs       the rank-1 constraint system as plain data
  iden3      the iden3 binary container and its .r1cs / .wtns / .zkey encodings

Nothing here knows about options, gadgets or Groth16 keys.
"""
