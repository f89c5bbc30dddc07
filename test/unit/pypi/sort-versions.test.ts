// sortVersions: PEP 440 order, with plain releases compared without the parser: the same order the parser alone gives.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compare, valid } from '@renovatebot/pep440';
import { sortVersions } from '../../../src/pypi/sort-versions.js';

/** The order as the PEP 440 library alone gives it (the comparator sortVersions had before its plain-release path). */
function reference(versions: string[]): string[] {
  const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...new Set(versions)].sort((a, b) => (valid(a) && valid(b) ? compare(a, b) || byText(a, b) : byText(a, b)));
}

test('plain releases sort by their numbers, a missing number counting as 0, ties in text order', () => {
  assert.deepEqual(sortVersions(['1.10', '1.9', '1.2.0', '1.2', '2', '0.9.99', '10.0', '1.02']), [
    '0.9.99',
    '1.02',
    '1.2',
    '1.2.0',
    '1.9',
    '1.10',
    '2',
    '10.0',
  ]);
  assert.deepEqual(sortVersions(['1.0', '1', '1.0.0', '1.0']), ['1', '1.0', '1.0.0']);
});

test('pre-, post- and dev-releases, epochs and local versions sort among plain ones as PEP 440 says', () => {
  assert.deepEqual(
    sortVersions(['1.0', '1.0.post1', '1.0rc1', '1.0.dev0', '1.0a1', '1!0.5', '0.9', '1.0+local.1', '1.1']),
    ['1.0.dev0', '1.0a1', '1.0rc1', '0.9', '1.0', '1.0+local.1', '1.0.post1', '1.1', '1!0.5'].sort((a, b) => compare(a, b)),
  );
});

test('versions PEP 440 cannot parse sort by text', () => {
  assert.deepEqual(sortVersions(['b-weird', 'a_weird']), ['a_weird', 'b-weird']);
});

test('the same order as the PEP 440 parser alone, over random mixes of every kind of version', () => {
  let seed = 7;
  const next = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const parts = () => Array.from({ length: 1 + next(4) }, () => String(next(3) === 0 ? next(12) : next(3))).join('.');
  const suffixes = ['', '', '', '', 'a1', 'b2', 'rc1', '.post1', '.dev0', '+local', '.post2.dev1', 'x', '-1'];
  for (let round = 0; round < 300; round++) {
    const versions = Array.from(
      { length: 1 + next(14) },
      () => `${next(20) === 0 ? '1!' : ''}${next(15) === 0 ? '0' : ''}${parts()}${suffixes[next(suffixes.length)]}`,
    );
    if (next(10) === 0) versions.push('not a version', '99999999999999999999.1');
    assert.deepEqual(sortVersions(versions), reference(versions), versions.join(' '));
  }
});
