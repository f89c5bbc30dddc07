// Conformance, side by side: upstream's `pypi` element (Debian's DIB 3.13) and ours, one row per
// DESIGN.md claim about upstream and per contract both keep (test/helpers/conformance.ts runs them).
// Every "upstream defect" row must FAIL for upstream and PASS for ours, every contract row PASS for
// both, every "upstream behaviour" row come out as DESIGN.md says. The table goes to the test's
// diagnostics and to docs/conformance.md (deterministic: commit it when it changes).
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { CONFORMANCE_DOC, ELEMENT_IDS, dibVersion, markdownReport, runConformance, scenarios, textTable } from '../../helpers/conformance.js';
import { dibProblem, upstreamPypiElement } from '../../helpers/dib.js';
import { builtCliProblem } from '../../helpers/element-mirror.js';
import { isRequired, need } from '../../helpers/require.js';

// The first run on a machine also makes the cached bookworm root (debootstrap, about a minute).
const LONG = { timeout: 20 * 60_000 };

function canRun(t: TestContext): boolean {
  const problem =
    dibProblem() ?? builtCliProblem() ?? (upstreamPypiElement() === undefined ? "upstream's pypi element is missing (python3-diskimage-builder)" : undefined);
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

test('the scenarios are well formed: unique ids, defect rows expect upstream FAIL / ours PASS, contract rows PASS for both', () => {
  const all = scenarios();
  const ids = all.flatMap((s) => [s.id, ...s.rows.map((r) => `row:${r.id}`)]);
  assert.deepEqual(ids, [...new Set(ids)]);
  for (const row of all.flatMap((s) => s.rows)) {
    if (row.kind === 'defect') assert.deepEqual(row.expected, { upstream: false, ours: true }, row.id);
    if (row.kind === 'contract') assert.deepEqual(row.expected, { upstream: true, ours: true }, row.id);
    if (row.kind !== 'contract') assert.ok(row.claim !== undefined && row.claim !== '', `${row.id} names the DESIGN.md statement it checks`);
  }
});

test('conformance: upstream pypi element vs ours, scenario by scenario', LONG, async (t) => {
  if (!canRun(t)) return;
  const started = Date.now();
  const result = await runConformance({ onProgress: (line) => t.diagnostic(line) });
  t.diagnostic(`all scenarios: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const line of textTable(result.rows).split('\n')) t.diagnostic(line);

  const doc = markdownReport(result.rows, dibVersion());
  const before = existsSync(CONFORMANCE_DOC) ? readFileSync(CONFORMANCE_DOC, 'utf8') : undefined;
  writeFileSync(CONFORMANCE_DOC, doc);
  t.diagnostic(before === doc ? `${CONFORMANCE_DOC}: unchanged` : `${CONFORMANCE_DOC}: written (it changed: commit it)`);

  for (const { scenario, row, verdicts } of result.rows) {
    await t.test(`${row.kind}: ${row.title}`, () => {
      for (const id of ELEMENT_IDS) {
        assert.equal(
          verdicts[id].pass,
          row.expected[id],
          `${id}: expected ${row.expected[id] ? 'PASS' : 'FAIL'}, got ${verdicts[id].pass ? 'PASS' : 'FAIL'} (${verdicts[id].detail})\n--- ${scenario.id}/${id}:\n${result.logs.get(`${scenario.id}/${id}`) ?? ''}`,
        );
      }
    });
  }
});
