// Compile Solidity with the pinned solc-js (node_modules/solc): Solidity standard JSON in on
// stdin, {"version": solc.version(), "output": <standard JSON output>} on stdout.
// Called by verifier_contracts/build.py; resolves `solc` from the repository's node_modules.
const solc = require('solc');

const chunks = [];
process.stdin.on('data', (chunk) => chunks.push(chunk));
process.stdin.on('end', () => {
  const output = JSON.parse(solc.compile(Buffer.concat(chunks).toString('utf8')));
  process.stdout.write(JSON.stringify({ version: solc.version(), output }));
});
