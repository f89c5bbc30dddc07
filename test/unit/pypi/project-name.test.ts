// PEP 503 name normalisation: the fast path (names already normal come back as they are) agrees with the rule.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeProjectName } from '../../../src/pypi/project-name.js';

const byRule = (name: string) => name.replace(/[-_.]+/g, '-').toLowerCase();

test('normalizeProjectName: PEP 503 examples', () => {
  const cases: [string, string][] = [
    ['Zope.Interface_Thing', 'zope-interface-thing'],
    ['PyYAML', 'pyyaml'],
    ['friendly-bard', 'friendly-bard'],
    ['Friendly-Bard', 'friendly-bard'],
    ['FRIENDLY-BARD', 'friendly-bard'],
    ['friendly.bard', 'friendly-bard'],
    ['friendly_bard', 'friendly-bard'],
    ['friendly--bard', 'friendly-bard'],
    ['FrIeNdLy-._.-bArD', 'friendly-bard'],
    ['a-', 'a-'],
    ['-a', '-a'],
    ['a.', 'a-'],
    ['', ''],
    ['ÉCOLE', 'école'],
  ];
  for (const [name, normal] of cases) assert.equal(normalizeProjectName(name), normal, name);
});

test('normalizeProjectName agrees with the rule on random names', () => {
  const alphabet = 'aZz09-_.-A.é';
  let seed = 12345;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let n = 0; n < 20_000; n++) {
    let name = '';
    const length = next() % 8;
    for (let i = 0; i < length; i++) name += alphabet[next() % alphabet.length];
    assert.equal(normalizeProjectName(name), byRule(name), JSON.stringify(name));
  }
});
