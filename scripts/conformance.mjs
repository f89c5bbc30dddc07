// `npm run conformance`: run the side-by-side conformance scenarios (upstream's pypi element vs
// ours; test/helpers/conformance.ts), print the table, write docs/conformance.md. Needs what the
// test needs (root, Debian's python3-diskimage-builder, debootstrap); exits 1 when a row is not
// what DESIGN.md predicts. `node scripts/conformance.mjs default twice` runs only those setups.
import { writeFileSync } from 'node:fs';

const { CONFORMANCE_DOC, dibVersion, markdownReport, runConformance, textTable } = await import('../dist/test/helpers/conformance.js');
const { dibProblem } = await import('../dist/test/helpers/dib.js');

const problem = dibProblem();
if (problem !== undefined) {
  console.error(`conformance: cannot run here: ${problem}`);
  process.exit(2);
}
const only = process.argv.slice(2);
const result = await runConformance({ ...(only.length > 0 ? { only } : {}), onProgress: (line) => console.error(line) });
console.log(textTable(result.rows));
const unexpected = result.rows.filter((r) => r.verdicts.upstream.pass !== r.row.expected.upstream || r.verdicts.ours.pass !== r.row.expected.ours);
for (const r of unexpected) console.log(`UNEXPECTED: ${r.row.title}: upstream ${r.verdicts.upstream.detail}; ours ${r.verdicts.ours.detail}`);
if (only.length === 0) {
  writeFileSync(CONFORMANCE_DOC, markdownReport(result.rows, dibVersion()));
  console.error(`wrote ${CONFORMANCE_DOC}`);
}
process.exit(unexpected.length > 0 ? 1 : 0);
