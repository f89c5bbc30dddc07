// The sync journal: which entries a crashed run left undurable, and the repair that re-hashes them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatEntries, journalPath, pendingEntries, repairFromJournal } from '../../../src/mirror/sync/journal.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const entry = (path: string, text: string) => ({ path, algorithm: 'sha256', digest: sha256(text) });

test('pendingEntries: entries after the last synced offset; a torn last line dropped', () => {
  const a = formatEntries([entry('p/a', 'a'), entry('p/b', 'b')]);
  const c = formatEntries([entry('q/c', 'c')]);
  assert.deepEqual(
    pendingEntries(a + c).map((e) => e.path),
    ['p/a', 'p/b', 'q/c'],
  );
  assert.deepEqual(
    pendingEntries(`${a}synced ${Buffer.byteLength(a)}\n${c}`).map((e) => e.path),
    ['q/c'],
  );
  // a marker covers only what was renamed when its syncfs began, even if written after later entries
  assert.deepEqual(
    pendingEntries(`${a}${c}synced ${Buffer.byteLength(a)}\n`).map((e) => e.path),
    ['q/c'],
  );
  assert.deepEqual(
    pendingEntries(`${a}sha256 ${sha256('x')} q/torn`).map((e) => e.path),
    ['p/a', 'p/b'],
  );
  assert.deepEqual(pendingEntries(''), []);
  assert.deepEqual(pendingEntries('garbage\nsha256 zz p/x\n'), []);
  const other = { path: 'p/w.whl', algorithm: 'sha512', digest: 'ab'.repeat(64) };
  assert.deepEqual(pendingEntries(formatEntries([other])), [other]);
});

test('repairFromJournal: intact files kept, a lost write removed with its .metadata, missing ones reported, nothing outside project dirs touched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-journal-'));
  try {
    for (const d of ['.dib-pypi', 'p', 'q', 'r']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'p', 'ok.whl'), 'ok');
    writeFileSync(join(dir, 'q', 'lost.whl'), ''); // the power loss kept the name, not the bytes
    writeFileSync(join(dir, 'q', 'lost.whl.metadata'), 'Name: lost\n');
    writeFileSync(join(dir, 'outside'), 'not ours');
    const entries = [
      entry('p/ok.whl', 'ok'),
      entry('q/lost.whl', 'lost bytes'),
      entry('r/gone.whl', 'gone'),
      entry('../outside', 'x'),
      entry('.dib-pypi/manifest.json', 'x'),
    ];
    writeFileSync(journalPath(dir), formatEntries(entries));
    let isJournalThere: boolean | undefined;
    const repair = repairFromJournal(dir, () => (isJournalThere = existsSync(journalPath(dir))));
    assert.equal(isJournalThere, true, 'the caller records the repair before the journal goes');
    assert.equal(repair.checked, 2);
    assert.deepEqual(repair.removed, ['q/lost.whl']);
    assert.deepEqual([...repair.projects].sort(), ['q', 'r']);
    assert.equal(existsSync(join(dir, 'p', 'ok.whl')), true);
    assert.equal(existsSync(join(dir, 'q', 'lost.whl')), false);
    assert.equal(existsSync(join(dir, 'q', 'lost.whl.metadata')), false);
    assert.equal(existsSync(join(dir, 'outside')), true);
    assert.equal(existsSync(journalPath(dir)), false, 'the journal is done with');
    assert.deepEqual(repairFromJournal(dir), { checked: 0, removed: [], projects: new Set() }, 'no journal: nothing to do');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
