// statTopLevel: the serial (warm cache) and parallel (cold cache) ways of stat-ing the top level give the same answer.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { statTopLevel } from '../../../src/mirror/index/scan-mirror.js';

function makeTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-top-'));
  for (let i = 0; i < 150; i++) {
    mkdirSync(join(dir, `p${String(i).padStart(3, '0')}`));
    utimesSync(join(dir, `p${String(i).padStart(3, '0')}`), 1_700_000_000 + i, 1_700_000_000 + i);
  }
  mkdirSync(join(dir, '.dib-pypi'));
  mkdirSync(join(dir, '.hidden'));
  writeFileSync(join(dir, 'loose-1.0.tar.gz'), 'x');
  writeFileSync(join(dir, '.loose-1.0.tar.gz.tmp-1-2'), 'x');
  symlinkSync(join(dir, 'p000'), join(dir, 'link-to-dir'));
  return dir;
}

test('serial and parallel stat-ing of the top level agree: directories with mtimes, sorted; files, temps and symlinks as entries; dot-directories and our state left out', async () => {
  const dir = makeTree();
  try {
    const serialTop = await statTopLevel(dir, 'serial');
    const parallelTop = await statTopLevel(dir, 'parallel');
    assert.equal(serialTop.isCold, false);
    assert.equal(parallelTop.isCold, true);
    const serial = serialTop.dirs;
    const parallel = parallelTop.dirs;
    const probed = (await statTopLevel(dir)).dirs;
    assert.deepEqual(parallel, serial);
    assert.deepEqual(probed, serial);
    assert.equal(serial.length, 151);
    assert.equal(serial[0]?.rel, '');
    assert.deepEqual(
      serial.slice(1, 4).map((t) => [t.rel, t.mtime]),
      [
        ['p000', '1700000000000'],
        ['p001', '1700000001000'],
        ['p002', '1700000002000'],
      ],
    );
    assert.deepEqual(
      [...(serial[0]?.entries ?? [])].sort((a, b) => a.name.localeCompare(b.name)),
      [
        { name: '.loose-1.0.tar.gz.tmp-1-2', isFile: true },
        { name: 'link-to-dir', isFile: false },
        { name: 'loose-1.0.tar.gz', isFile: true },
      ],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a mirror root that is not there is an error, not an empty mirror', async () => {
  await assert.rejects(statTopLevel(join(tmpdir(), 'dib-pypi-no-such-dir-here')), /ENOENT/);
});
