// An index run killed after any write leaves a valid index and the next run repairs it; verify finds every kind of damage.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';

async function makeMirror(projects: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-crash-mirror-'));
  for (let i = 0; i < projects; i++) {
    const name = `proj-${i}`;
    mkdirSync(join(dir, name));
    await makeWheel(join(dir, name), { name, version: '1.0' });
    if (i % 3 === 0) makeSdist(join(dir, name), { name, version: '1.0' });
  }
  return dir;
}

/** Every page parses, and every link resolves to a file whose sha256 is the one in the link. */
function assertIndexValid(dir: string, label: string): void {
  const root = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.ok(root.endsWith('</html>\n'), `${label}: root page cut short`);
  JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  for (const [, project] of root.matchAll(/<a href="([^"]+)\/">/g)) {
    const html = readFileSync(join(dir, project as string, 'index.html'), 'utf8');
    assert.ok(html.endsWith('</html>\n'), `${label}: ${project} page cut short`);
    const json = JSON.parse(readFileSync(join(dir, project as string, 'index.json'), 'utf8'));
    for (const file of json.files as { url: string; hashes: { sha256: string }; 'core-metadata'?: { sha256: string } }[]) {
      const path = posix.normalize(posix.join(project as string, decodeURIComponent(file.url)));
      const sha = createHash('sha256')
        .update(readFileSync(join(dir, path)))
        .digest('hex');
      assert.equal(sha, file.hashes.sha256, `${label}: ${path} does not match its link`);
      if (file['core-metadata']) {
        const meta = createHash('sha256')
          .update(readFileSync(join(dir, `${path}.metadata`)))
          .digest('hex');
        assert.equal(meta, file['core-metadata'].sha256, `${label}: ${path}.metadata does not match`);
      }
    }
  }
}

describe('mirror index crash safety', () => {
  test('killed after each write in turn: the index stays valid, the next run repairs it, verify passes', async (t) => {
    const base = await makeMirror(6);
    try {
      assert.equal(runCli(['mirror', 'index', base]).status, 0);
      let points = 0;
      for (let step = 1; step < 100; step++) {
        const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-crash-run-'));
        try {
          execCopy(base, dir);
          // change the mirror: a new project, a new version, a yanked file (a removed file would
          // break the old index by itself, before any run: that is the user's change, not ours)
          mkdirSync(join(dir, 'proj-new'));
          await makeWheel(join(dir, 'proj-new'), { name: 'proj-new', version: '1.0' });
          await makeWheel(join(dir, 'proj-2'), { name: 'proj-2', version: '2.0' });
          writeFileSync(join(dir, 'proj-1', 'proj_1-1.0-py3-none-any.whl.yanked'), 'bad');
          const killed = runCli(['mirror', 'index', dir], { env: cleanEnv({ DIB_PYPI_TEST_FAULT_AT: String(step) }) });
          if (killed.signal === null) {
            assert.equal(killed.status, 0, killed.stderr);
            break;
          }
          points++;
          assert.equal(killed.signal, 'SIGKILL');
          assertIndexValid(dir, `killed at write ${step}`);
          const next = runCli(['mirror', 'index', dir]);
          assert.equal(next.status, 0, next.stderr);
          assertIndexValid(dir, `after the run that followed write ${step}`);
          assert.ok(readFileSync(join(dir, 'index.html'), 'utf8').includes('proj-new/'));
          assert.deepEqual(
            readdirSync(dir).filter((n) => n.includes('.tmp-')),
            [],
            'temp files left',
          );
          const verified = runCli(['mirror', 'verify', dir]);
          assert.equal(verified.status, 0, verified.stdout + verified.stderr);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      assert.ok(points >= 6, `only ${points} crash points`);
      t.diagnostic(`${points} crash points`);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
});

/** cp -a keeps mtimes, so the copy's manifest still matches its files. */
function execCopy(from: string, to: string): void {
  assert.equal(spawnSync('cp', ['-a', `${from}/.`, to]).status, 0);
}

describe('mirror verify', () => {
  test('finds corrupted, missing and unindexed files and stale pages; --repair quarantines and re-indexes', async () => {
    const dir = await makeMirror(4);
    try {
      assert.equal(runCli(['mirror', 'index', dir]).status, 0);
      const clean = runCli(['mirror', 'verify', dir]);
      assert.equal(clean.status, 0, clean.stdout + clean.stderr);
      assert.match(clean.stdout, /verified .*: 6 files, .* all match the index/);

      appendFileSync(join(dir, 'proj-0', 'proj_0-1.0-py3-none-any.whl'), 'x'); // corrupted
      rmSync(join(dir, 'proj-1', 'proj_1-1.0-py3-none-any.whl')); // missing
      await makeWheel(join(dir, 'proj-2'), { name: 'proj-2', version: '9.0' }); // unindexed
      writeFileSync(join(dir, 'proj-3', 'index.html'), '<html>stale</html>'); // stale page
      const result = runCli(['mirror', 'verify', dir, '--json']);
      assert.equal(result.status, 1);
      const findings = JSON.parse(result.stdout).findings.map((f: { kind: string; path: string }) => `${f.kind} ${f.path}`);
      assert.deepEqual(findings, [
        'corrupted proj-0/proj_0-1.0-py3-none-any.whl',
        'missing proj-1/proj_1-1.0-py3-none-any.whl',
        'unindexed proj-2/proj_2-9.0-py3-none-any.whl',
        'stale-page proj-3/index.html',
      ]);
      const repaired = runCli(['mirror', 'verify', dir, '--repair']);
      assert.equal(repaired.status, 0, repaired.stdout + repaired.stderr);
      assert.match(repaired.stdout, /quarantined \.dib-pypi\/quarantine\/proj-0__proj_0-1\.0-py3-none-any\.whl/);
      assert.ok(existsSync(join(dir, '.dib-pypi', 'quarantine', 'proj-0__proj_0-1.0-py3-none-any.whl')));
      assert.equal(runCli(['mirror', 'verify', dir]).status, 0);
      assertIndexValid(dir, 'after repair');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a directory that was never indexed is bad input', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-noindex-'));
    try {
      const result = runCli(['mirror', 'verify', dir]);
      assert.equal(result.status, 2);
      assert.match(result.stderr, /has no index yet .* run dib-pypi mirror index first/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
