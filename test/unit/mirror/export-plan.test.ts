// planExport: which source file each locked sha256 is, where it goes in the export, and which locked hashes are missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planExport } from '../../../src/mirror/export/export-mirror.js';
import type { FileRecord } from '../../../src/mirror/store/manifest.js';
import type { LockEntry } from '../../../src/pypi/lock-file.js';

const h = (c: string) => c.repeat(64);
const rec = (sha256: string, project: string, version = '1.0', extra: Partial<FileRecord> = {}): FileRecord => ({
  size: 1,
  mtimeNs: '1',
  sha256,
  project,
  version,
  ...extra,
});
const pin = (project: string, version: string, sha256: string[], marker?: string): LockEntry => ({
  project,
  version,
  targets: [],
  sha256,
  ...(marker === undefined ? {} : { marker }),
});

test('every hash of a pin is found; loose top-level files go to their project directory; a duplicate is taken once', () => {
  const files: Record<string, FileRecord> = {
    'demo-pkg/demo_pkg-1.0-py3-none-any.whl': rec(h('a'), 'demo-pkg'),
    'demo_pkg-1.0-py3-none-any.whl': rec(h('a'), 'demo-pkg'),
    'natlib-1.0-py3-none-win_amd64.whl': rec(h('b'), 'natlib'),
    'natlib/natlib-1.0-py3-none-manylinux2014_x86_64.whl': rec(h('c'), 'natlib'),
    'natlib/natlib-0.9-py3-none-manylinux2014_x86_64.whl': rec(h('d'), 'natlib', '0.9'),
  };
  const { planned, missing } = planExport([pin('demo.pkg', '1.0', [h('a')]), pin('natlib', '1.0', [h('b'), h('c')], 'sys_platform == "linux"')], files);
  assert.deepEqual(missing, []);
  assert.deepEqual(
    planned.map((p) => [p.from, p.to]),
    [
      ['demo-pkg/demo_pkg-1.0-py3-none-any.whl', 'demo-pkg/demo_pkg-1.0-py3-none-any.whl'],
      ['natlib/natlib-1.0-py3-none-manylinux2014_x86_64.whl', 'natlib/natlib-1.0-py3-none-manylinux2014_x86_64.whl'],
      ['natlib-1.0-py3-none-win_amd64.whl', 'natlib/natlib-1.0-py3-none-win_amd64.whl'],
    ],
  );
});

test('a hash the source lacks, one that belongs to another project and one of a broken file are missing, each named with its pin', () => {
  const files: Record<string, FileRecord> = {
    'other/other-1.0-py3-none-any.whl': rec(h('a'), 'other'),
    'demo-pkg/demo_pkg-1.0.tar.gz': rec(h('b'), 'demo-pkg', '1.0', { problem: 'truncated' }),
  };
  const { planned, missing } = planExport([pin('demo-pkg', '1.0', [h('a'), h('b'), h('e')], 'python_version == "3.11"')], files);
  assert.deepEqual(planned, []);
  assert.deepEqual(missing, [
    `missing: demo-pkg==1.0 ; python_version == "3.11" (sha256 ${h('a')}): no file with this hash in the source mirror`,
    `missing: demo-pkg==1.0 ; python_version == "3.11" (sha256 ${h('b')}): no file with this hash in the source mirror`,
    `missing: demo-pkg==1.0 ; python_version == "3.11" (sha256 ${h('e')}): no file with this hash in the source mirror`,
  ]);
});
