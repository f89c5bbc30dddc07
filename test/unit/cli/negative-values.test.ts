// joinNegativeValues: `--retries -1` reaches the option's own validation as `--retries=-1`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinNegativeValues } from '../../../src/cli/negative-values.js';

const OPTIONS = { retries: { type: 'string' }, jobs: { type: 'string', short: 'j' }, json: { type: 'boolean' }, 'dry-run': { type: 'boolean' } } as const;

const ROWS: { name: string; args: string[]; out: string[] }[] = [
  { name: 'long option, negative integer', args: ['--retries', '-1'], out: ['--retries=-1'] },
  { name: 'short option', args: ['-j', '-3', 'DIR'], out: ['--jobs=-3', 'DIR'] },
  { name: 'negative decimal', args: ['--retries', '-2.5'], out: ['--retries=-2.5'] },
  { name: 'leading dot', args: ['--retries', '-.5'], out: ['--retries=-.5'] },
  { name: 'a real option after a value-taking one is left to parseArgs', args: ['--retries', '--json'], out: ['--retries', '--json'] },
  { name: 'boolean options take no value', args: ['--json', '-1'], out: ['--json', '-1'] },
  { name: 'already joined', args: ['--retries=-1'], out: ['--retries=-1'] },
  { name: 'nothing after --', args: ['--', '--retries', '-1'], out: ['--', '--retries', '-1'] },
  { name: 'positive value unchanged', args: ['--retries', '3'], out: ['--retries', '3'] },
];

for (const row of ROWS) {
  test(`joinNegativeValues: ${row.name}`, () => {
    assert.deepEqual(joinNegativeValues(row.args, OPTIONS), row.out);
  });
}
