// The pull-through cache's size limit, pure: least recently used first, down to the low-water mark, the file in use kept.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CacheBudget, LOW_WATER } from '../../../src/server/cache-budget.js';

test('under or at the limit nothing is evicted; over it, the least recently used go until LOW_WATER of the limit', () => {
  const budget = new CacheBudget(1000);
  budget.add({ key: 'a/a.whl', bytes: 400, lastUsed: 1 });
  budget.add({ key: 'b/b.whl', bytes: 300, lastUsed: 2 });
  budget.add({ key: 'c/c.whl', bytes: 300, lastUsed: 3 });
  assert.equal(budget.bytes, 1000);
  assert.deepEqual(budget.victims(), [], 'at the limit');
  budget.add({ key: 'd/d.whl', bytes: 100, lastUsed: 4 });
  assert.deepEqual(
    budget.victims('d/d.whl').map((v) => v.key),
    ['a/a.whl'],
    '1100 -> 700 <= 900',
  );
  assert.equal(LOW_WATER, 0.9);
  budget.add({ key: 'e/e.whl', bytes: 250, lastUsed: 5 });
  assert.deepEqual(
    budget.victims().map((v) => v.key),
    ['a/a.whl', 'b/b.whl'],
    '1350 -> 950 is still above 900: the next oldest goes too',
  );
  assert.equal(budget.bytes, 1350, 'victims() only names them');
});

test('touch makes a file the most recently used; an unknown key is not counted', () => {
  const budget = new CacheBudget(500);
  budget.add({ key: 'a', bytes: 300, lastUsed: 10 });
  budget.add({ key: 'b', bytes: 300, lastUsed: 20 });
  assert.equal(budget.touch('a', 30), 10);
  assert.equal(budget.touch('a', 25), 30, 'time never goes back');
  assert.equal(budget.touch('zzz', 40), undefined);
  assert.deepEqual(
    budget.victims().map((v) => v.key),
    ['b'],
  );
});

test('the file in use is never a victim, even alone over the limit; ties go by key; remove and re-add keep the sum right', () => {
  const budget = new CacheBudget(100);
  budget.add({ key: 'big', bytes: 500, lastUsed: 1 });
  assert.deepEqual(budget.victims('big'), []);
  budget.add({ key: 'y', bytes: 10, lastUsed: 1 });
  budget.add({ key: 'x', bytes: 10, lastUsed: 1 });
  assert.deepEqual(
    budget.victims('big').map((v) => v.key),
    ['x', 'y'],
  );
  budget.add({ key: 'x', bytes: 20, lastUsed: 2 });
  assert.equal(budget.bytes, 530);
  assert.equal(budget.files, 3);
  budget.remove('big');
  budget.remove('big');
  assert.equal(budget.bytes, 30);
  assert.ok(!budget.has('big'));
  assert.throws(() => new CacheBudget(0), RangeError);
  assert.deepEqual(new CacheBudget(Number.POSITIVE_INFINITY).victims(), []);
});

test('keys lists what is counted', () => {
  const budget = new CacheBudget(100);
  budget.add({ key: 'a/x.whl', bytes: 1, lastUsed: 1 });
  budget.add({ key: 'b/y.whl', bytes: 1, lastUsed: 1 });
  assert.deepEqual([...budget.keys()].sort(), ['a/x.whl', 'b/y.whl']);
});
