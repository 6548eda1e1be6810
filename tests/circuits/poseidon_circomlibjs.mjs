// Hash input vectors with circomlibjs's three Poseidon implementations, for tests/circuits/test_poseidon.py.
// stdin: JSON list of input vectors (decimal strings); stdout: JSON list of [wasm, reference, optimized] hashes.
import { buildPoseidon, buildPoseidonReference, buildPoseidonOpt } from "circomlibjs";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const vectors = JSON.parse(Buffer.concat(chunks).toString());
const builders = [buildPoseidon, buildPoseidonReference, buildPoseidonOpt];
const hashers = await Promise.all(builders.map((build) => build()));
const out = vectors.map((inputs) =>
    hashers.map((poseidon) => poseidon.F.toString(poseidon(inputs.map(BigInt))))
);
process.stdout.write(JSON.stringify(out));
process.exit(0);
