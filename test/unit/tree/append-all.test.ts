// Arrays the size of a big mirror are appended without spreading them into a call, and the source
// keeps no spread of an array into a call except the few whose length is bounded by construction.
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { appendAll } from '../../../src/append-all.js';

const REPO = fileURLToPath(new URL('../../../../', import.meta.url));

test('appendAll: a million items, where push(...items) overflows the stack', () => {
  const items = Array.from({ length: 1_000_000 }, (_, i) => i);
  assert.throws(() => [0].push(...items), RangeError);
  const target = [-1];
  assert.equal(appendAll(target, items), target);
  assert.equal(target.length, 1_000_001);
  assert.equal(target[0], -1);
  assert.equal(target[1_000_000], 999_999);
  assert.deepEqual(appendAll([], new Set(['a', 'b']).values()), ['a', 'b']);
});

/**
 * Spreads into a call whose length has a bound that no input can raise: path components (PATH_MAX),
 * the handful of journal records one configured file makes, and the arguments of one write() or
 * end() passed on. Anything else uses appendAll or a loop.
 */
const BOUNDED = new Set([
  'src/fs/resolve-in-root.ts: join(root, ...parts)',
  'src/fs/resolve-in-root.ts: join(root, ...stack, part)',
  'src/fs/resolve-in-root.ts: queue.unshift(...splitPath(target))',
  'src/fs/resolve-in-root.ts: join(root, ...parts.slice(0, i + 1))',
  "src/inject/configure-root.ts: ctx.journal.append(...dirRecord(ctx, parent, dir), { op: 'mkdir', path })",
  'src/inject/configure-root.ts: records.push(...dirRecord(ctx, parent, dir), recordOriginal(ctx, path, host, current))',
  'src/inject/configure-root.ts: ctx.journal.append(...records)',
  'src/inject/journal-file.ts: this.records.push(...records)',
  'src/server/observe.ts: (base.write as (...a: unknown[]) => boolean).call(this, chunk, ...rest)',
  'src/server/observe.ts: (base.end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest)',
]);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

test('no array is spread into a call in src/ unless its length is bounded', () => {
  const found: string[] = [];
  for (const file of sourceFiles(join(REPO, 'src'))) {
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if ((ts.isCallExpression(node) || ts.isNewExpression(node)) && node.arguments?.some(ts.isSpreadElement)) {
        found.push(`${relative(REPO, file)}: ${node.getText(source).replace(/\s+/g, ' ')}`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  const unbounded = found.filter((site) => !BOUNDED.has(site));
  assert.deepEqual(unbounded, [], 'use appendAll (src/append-all.ts) or a loop instead of spreading into a call');
  assert.ok(found.length > 0, 'the scan found none of the known bounded spreads: is it reading the source?');
});
