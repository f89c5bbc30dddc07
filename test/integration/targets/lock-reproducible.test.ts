// Reproducibility from one lock: two `docker build --no-cache` and two `chroot` runs (fresh roots) install the lock from its
// export, and what they installed is compared: `pip freeze --all`, and every RECORD entry of every installed distribution
// (path, the sha256 RECORD names, the sha256 of the file on disk).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { mirrorImageTag } from '../../../src/targets/mirror-image.js';
import { BIN, cleanEnv, runCliAsync } from '../../helpers/cli.js';
import { dockerOk, dockerSuite } from '../../helpers/docker.js';
import { makeBookwormRoot } from '../../helpers/debootstrap-root.js';
import { type LockFixture, makeLockFixture } from '../../helpers/lock-fixture.js';
import { isRoot, need } from '../../helpers/require.js';

const suite = dockerSuite('dib-pypi-lock-repro-test-');
const { problem, env, images } = suite;
let fixture: LockFixture;

/**
 * What a target installed, as JSON: `pip freeze --all`, and for each distribution (by name and
 * version) its RECORD entries as [path, RECORD's sha256 or "", the file's sha256 now or "missing"].
 */
const REPORT = `
import base64, hashlib, importlib.metadata as md, json, subprocess, sys
freeze = subprocess.run([sys.executable, '-m', 'pip', 'freeze', '--all'], capture_output=True, text=True, check=True).stdout
dists = {}
for dist in md.distributions():
    entries = []
    for file in dist.files or []:
        path = dist.locate_file(file)
        try:
            now = base64.urlsafe_b64encode(hashlib.sha256(open(path, 'rb').read()).digest()).rstrip(b'=').decode()
        except OSError:
            now = 'missing'
        entries.append([str(file), file.hash.value if file.hash else '', now])
    dists[dist.metadata['Name'] + '==' + dist.version] = sorted(entries)
print(json.dumps({'freeze': freeze, 'dists': dists}, sort_keys=True))
`;

interface Report {
  freeze: string;
  dists: Record<string, [string, string, string][]>;
}

/**
 * What pip itself makes differ between two installs of the same files, checked by running this
 * test rather than guessed: the bytecode pip compiles, `__pycache__/*.pyc`. RECORD lists each with
 * no hash (pip writes `path,,`), and its bytes hold the source file's mtime, which is the time of
 * the install (pip does not keep a wheel's mtimes). Everything else must be equal: every other
 * file's RECORD hash and bytes (INSTALLER, REQUESTED, METADATA, WHEEL, the RECORD line of RECORD
 * itself, which has no hash either, and the wheel pip builds from the sdist), and pip freeze.
 */
function isPipNonReproducible(path: string): boolean {
  return /(^|\/)__pycache__\/[^/]+\.pyc$/.test(path);
}

/** The report with the exceptions' on-disk hashes blanked (their paths and RECORD hashes are still compared). */
function comparable(report: Report): Report {
  const dists = Object.fromEntries(
    Object.entries(report.dists).map(([name, entries]) => [
      name,
      entries.map(([path, record, now]): [string, string, string] => [path, record, isPipNonReproducible(path) ? '(pyc)' : now]),
    ]),
  );
  return { freeze: report.freeze, dists };
}

async function dockerReport(name: string): Promise<Report> {
  const dir = join(suite.work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.py'), REPORT);
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${suite.base}\nCOPY report.py /report.py\nRUN python3 -m pip install --break-system-packages --no-build-isolation -r /tmp/pypi-requirements.lock && python3 /report.py > /report.json\n`,
  );
  const tag = `dib-pypi-test-lock-repro:${name}`;
  images.push(tag);
  const args = ['docker', 'build', '--mirror', fixture.exported, '--lock', fixture.lock, '--offline', '--no-cache', '-q', '-t', tag, dir];
  const built = await runCliAsync(args, { env, cwd: suite.work });
  assert.equal(built.status, 0, built.stderr);
  return JSON.parse(dockerOk(['run', '--rm', '--network', 'none', tag, 'cat', '/report.json'])) as Report;
}

async function chrootReport(): Promise<Report> {
  await using root = await makeBookwormRoot();
  const state = mkdtempSync(join(suite.work, 'state-'));
  const pip = ['python3', '-m', 'pip', 'install', '--no-cache-dir', '--break-system-packages', '--no-build-isolation', '-r', '/tmp/pypi-requirements.lock'];
  const chroot = [
    process.execPath,
    '--',
    BIN,
    'chroot',
    root.root,
    '--state-dir',
    state,
    '--mirror',
    fixture.exported,
    '--lock',
    fixture.lock,
    '--offline',
    '--',
    ...pip,
  ];
  const installed = spawnSync('unshare', ['--net', '--', ...chroot], { env: cleanEnv(), encoding: 'utf8' });
  assert.equal(installed.status, 0, installed.stdout + installed.stderr);
  const report = spawnSync('chroot', [root.root, 'python3', '-c', REPORT], { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(report.status, 0, report.stderr);
  return JSON.parse(report.stdout) as Report;
}

/** Entries of `b` that differ from `a`'s, by distribution, for a readable failure. */
function differences(a: Report, b: Report): string[] {
  const out: string[] = [];
  for (const name of new Set([...Object.keys(a.dists), ...Object.keys(b.dists)])) {
    const left = new Set((a.dists[name] ?? []).map((e) => e.join(' ')));
    const right = new Set((b.dists[name] ?? []).map((e) => e.join(' ')));
    for (const e of right) if (!left.has(e)) out.push(`${name}: + ${e}`);
    for (const e of left) if (!right.has(e)) out.push(`${name}: - ${e}`);
  }
  return out;
}

describe('one lock, four builds', { skip: suite.skip || (!isRoot && !process.env.DIB_PYPI_REQUIRE_ALL ? 'needs root (chroot)' : false) }, () => {
  before(async () => {
    if (problem !== undefined) return;
    fixture = await makeLockFixture(join(suite.work, 'lock'));
    images.push(mirrorImageTag(fixture.exported));
  });

  test('two docker builds (no cache) and two chroot runs (fresh roots) install the same distributions, file for file', async (t) => {
    if (!need(t, problem === undefined, problem ?? '') || !need(t, isRoot, 'needs root (chroot)')) return;
    const reports = [await dockerReport('a'), await dockerReport('b'), await chrootReport(), await chrootReport()];
    const first = reports[0] as Report;
    assert.match(first.freeze, /^lock-app==1\.0$/m);
    assert.match(first.freeze, /^lock-dep==1\.0$/m);
    assert.match(first.freeze, /^lock-sdist==0\.1$/m);
    const sdistRecord = first.dists['lock-sdist==0.1'] ?? [];
    assert.ok(
      sdistRecord.some(([path, record]) => path === 'lock_sdist/__init__.py' && record !== ''),
      'the sdist was built and installed',
    );
    assert.ok(
      Object.values(first.dists).some((entries) => entries.some(([path]) => isPipNonReproducible(path))),
      'the exception is met (bytecode compiled)',
    );
    for (const [i, report] of reports.entries()) {
      assert.equal(report.freeze, first.freeze, `pip freeze --all of build ${i}`);
      assert.deepEqual(differences(comparable(first), comparable(report)), [], `build ${i} against build 0`);
    }
  });
});
