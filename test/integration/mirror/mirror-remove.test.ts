// mirror remove / yank / unyank as a user runs them: what goes (files with their sidecars and metadata, the
// pages' links), what is refused (exit 1 naming it, exit 2 for a bad file name), a run killed after each of
// its steps (the pages never link a missing file; verify accepts the mirror; the next run finishes the removal),
// and real pip skipping a yanked version unless it is pinned.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';

/** Project `a` (1.0: wheel and sdist; 2.0: wheel with sidecars, and a loose sdist at the top level) and `b`, indexed. */
async function makeMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'a'), { name: 'a', version: '1.0' });
  makeSdist(join(dir, 'a'), { name: 'a', version: '1.0' });
  await makeWheel(join(dir, 'a'), { name: 'a', version: '2.0' });
  writeFileSync(join(dir, 'a', 'a-2.0-py3-none-any.whl.upload-time'), '2024-01-02T03:04:05Z\n');
  writeFileSync(join(dir, 'a', 'a-2.0-py3-none-any.whl.yanked'), 'old yank\n');
  makeSdist(dir, { name: 'a', version: '2.0' });
  await makeWheel(join(dir, 'b'), { name: 'b', version: '1.0' });
  const indexed = runCli(['mirror', 'index', dir]);
  assert.equal(indexed.status, 0, indexed.stderr);
}

/** Every page parses, and every link (and advertised metadata) resolves to bytes with the sha256 it names. */
function assertLinksValid(dir: string, label: string): void {
  const root = readFileSync(join(dir, 'index.html'), 'utf8');
  assert.ok(root.endsWith('</html>\n'), `${label}: root page cut short`);
  for (const [, project] of root.matchAll(/<a href="([^"]+)\/">/g)) {
    const json = JSON.parse(readFileSync(join(dir, project as string, 'index.json'), 'utf8')) as {
      files: { url: string; hashes: { sha256: string }; 'core-metadata'?: { sha256: string } }[];
    };
    for (const file of json.files) {
      const path = posix.normalize(posix.join(project as string, decodeURIComponent(file.url)));
      const sha = (p: string) =>
        createHash('sha256')
          .update(readFileSync(join(dir, p)))
          .digest('hex');
      assert.equal(sha(path), file.hashes.sha256, `${label}: ${path} does not match its link`);
      if (file['core-metadata']) assert.equal(sha(`${path}.metadata`), file['core-metadata'].sha256, `${label}: ${path}.metadata`);
    }
  }
}

function pageFiles(dir: string, project: string): string[] {
  if (!existsSync(join(dir, project, 'index.json'))) return [];
  return (JSON.parse(readFileSync(join(dir, project, 'index.json'), 'utf8')) as { files: { filename: string }[] }).files.map((f) => f.filename);
}

function filesUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (rel: string) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(path);
      else found.push(path);
    }
  };
  walk('');
  return found.sort();
}

test('remove a file, a version, a project: sidecars and metadata go, pages drop them, verify passes; bad targets exit 1 or 2', async () => {
  await using mirror = makeTempDir('dib-pypi-remove-');
  const dir = mirror.path;
  await makeMirror(dir);

  const cases: [string[], number, RegExp][] = [
    [['nope'], 1, /no project nope in the mirror/],
    [['a==3.0'], 1, /no version 3.0 of a in the mirror/],
    [['a==1.0', 'a-1.0-py2-none-any.whl'], 1, /no file a-1.0-py2-none-any.whl of a in the mirror/],
    [['a', '../b/b-1.0-py3-none-any.whl'], 2, /file: a file name, not a path/],
    [['a', 'b-1.0-py3-none-any.whl'], 2, /is not a file of project a/],
    [['a==2.0', 'a-1.0.tar.gz'], 2, /is not a file of a==2.0/],
    [['a', 'a-1.0.tar.gz.metadata'], 2, /not a distribution file name/],
    [['a===1'], 2, /not PROJECT==VERSION/],
  ];
  // A project directory that is a symlink (the index never follows one) is no project: nothing outside is touched.
  await using outside = makeTempDir('dib-pypi-remove-outside-');
  const victim = await makeWheel(outside.path, { name: 'evil', version: '1.0' });
  symlinkSync(outside.path, join(dir, 'evil'));
  cases.push([['evil'], 1, /no project evil in the mirror/], [['evil==1.0'], 1, /no project evil/]);
  const before = filesUnder(dir);
  for (const [args, status, message] of cases) {
    const result = runCli(['mirror', 'remove', dir, ...args]);
    assert.equal(result.status, status, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trim().split('\n').length, 1, `one line: ${result.stderr}`);
  }
  assert.deepEqual(filesUnder(dir), before, 'refused removals change nothing');
  assert.ok(existsSync(victim) && existsSync(join(dir, 'evil')), 'nothing removed through the symlink');
  assert.equal(runCli(['mirror', 'yank', dir, 'evil==1.0']).status, 1);
  rmSync(join(dir, 'evil'));

  const one = runCli(['mirror', 'remove', dir, 'a', 'a-1.0.tar.gz']);
  assert.equal(one.status, 0, one.stderr);
  assert.deepEqual(pageFiles(dir, 'a'), ['a-1.0-py3-none-any.whl', 'a-2.0-py3-none-any.whl', 'a-2.0.tar.gz']);
  assert.ok(!existsSync(join(dir, 'a', 'a-1.0.tar.gz')));

  // PEP 440: ==2 is 2.0. The wheel goes with .metadata, .yanked, .upload-time; the loose sdist at the top too.
  const version = runCli(['mirror', 'remove', dir, 'a==2', '--json']);
  assert.equal(version.status, 0, version.stderr);
  assert.deepEqual((JSON.parse(version.stdout) as { files: string[] }).files.sort(), ['a-2.0.tar.gz', 'a/a-2.0-py3-none-any.whl']);
  assert.deepEqual(pageFiles(dir, 'a'), ['a-1.0-py3-none-any.whl']);
  assert.deepEqual(
    filesUnder(dir).filter((p) => p.includes('2.0')),
    [],
    'no file, sidecar or metadata of 2.0 left',
  );
  const record = JSON.parse(readFileSync(join(dir, '.dib-pypi', 'removed', 'a.json'), 'utf8'));
  assert.deepEqual(record, { version: 1, project: 'a', whole: false, versions: ['2'], files: ['a-1.0.tar.gz'] });
  assert.equal(runCli(['mirror', 'verify', dir]).status, 0);

  const project = runCli(['mirror', 'remove', dir, 'A']);
  assert.equal(project.status, 0, project.stderr);
  assert.ok(!existsSync(join(dir, 'a')));
  assert.doesNotMatch(readFileSync(join(dir, 'index.html'), 'utf8'), /href="a\/"/);
  assert.match(readFileSync(join(dir, 'index.html'), 'utf8'), /href="b\/"/);
  assert.deepEqual(readdirSync(join(dir, '.dib-pypi', 'removing')), [], 'the moved files are deleted');
  const verified = runCli(['mirror', 'verify', dir]);
  assert.equal(verified.status, 0, verified.stdout + verified.stderr);

  // --forget removes nothing and drops the record; forgetting what is not recorded is exit 1.
  assert.equal(runCli(['mirror', 'remove', '--forget', dir, 'a']).status, 0);
  assert.ok(!existsSync(join(dir, '.dib-pypi', 'removed', 'a.json')));
  const again = runCli(['mirror', 'remove', '--forget', dir, 'a']);
  assert.equal(again.status, 1);
  assert.match(again.stderr, /no removal of a is recorded/);
  assert.match(runCli(['mirror', 'remove', '--help']).stdout, /--forget/);
});

/** The name of the step the fault hook killed the run at (DIB_PYPI_TEST_TRACE_STEPS prints each before it counts). */
function killedAt(stderr: string): string {
  const steps = [...stderr.matchAll(/step \d+: (.*)/g)];
  return steps.at(-1)?.[1] ?? '';
}

const OWN_STEPS = /^(removal journal written|removal recorded|deleted .*|removal finished)$/;

for (const spec of ['a==2.0', 'a']) {
  test(`mirror remove ${spec} killed after each step: no link to a missing file, nothing lost, verify accepts, the next run finishes it`, async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'dib-pypi-remove-crash-'));
    try {
      await makeMirror(base);
      const files = filesUnder(base).filter((p) => !p.startsWith('.dib-pypi/'));
      const isOfTarget = (path: string) => (spec === 'a' ? path.startsWith('a/') || path.startsWith('a-') : path.includes('-2.0'));
      let points = 0;
      for (let step = 1; step < 60; step++) {
        const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-remove-crash-run-'));
        try {
          assert.equal(spawnSync('cp', ['-a', `${base}/.`, dir]).status, 0);
          const env = cleanEnv({ DIB_PYPI_TEST_FAULT_AT: String(step), DIB_PYPI_TEST_TRACE_STEPS: '1' });
          const killed = runCli(['mirror', 'remove', dir, spec], { env });
          if (killed.signal === null) {
            assert.equal(killed.status, 0, killed.stderr);
            break;
          }
          points++;
          const at = killedAt(killed.stderr);
          assertLinksValid(dir, `killed at step ${step} (${at})`);
          // Nothing goes that the journal does not list: every file gone is one of the removal's.
          const journaled = new Set<string>();
          for (const name of existsSync(join(dir, '.dib-pypi', 'removing')) ? readdirSync(join(dir, '.dib-pypi', 'removing')) : []) {
            for (const path of (JSON.parse(readFileSync(join(dir, '.dib-pypi', 'removing', name, 'journal.json'), 'utf8')) as { paths: string[] }).paths)
              journaled.add(path);
          }
          for (const path of files.filter((p) => !existsSync(join(dir, p))))
            assert.ok(
              journaled.has(path) || journaled.has(path.split('/')[0] as string) || (at === 'removal finished' && isOfTarget(path)),
              `step ${step} (${at}): ${path} gone, not journaled`,
            );
          const verified = runCli(['mirror', 'verify', dir, '--json']);
          if (OWN_STEPS.test(at)) assert.equal(verified.status, 0, `killed at ${at}: ${verified.stdout}`);
          else {
            // Inside the re-index: the index's own guarantee (valid links; pages the next run rewrites).
            const kinds = (JSON.parse(verified.stdout) as { findings: { kind: string }[] }).findings.map((f) => f.kind);
            assert.ok(
              kinds.every((k) => k === 'stale-page'),
              `killed at ${at}: ${verified.stdout}`,
            );
          }
          const next = runCli(['mirror', 'index', dir]);
          assert.equal(next.status, 0, next.stderr);
          assertLinksValid(dir, `after the index that followed step ${step}`);
          const after = runCli(['mirror', 'verify', dir]);
          assert.equal(after.status, 0, `after step ${step} (${at}): ${after.stdout}`);
          assert.deepEqual(filesUnder(join(dir, '.dib-pypi', 'removing')), [], `step ${step}: the removal was finished`);
          const left = spec === 'a' ? pageFiles(dir, 'a') : pageFiles(dir, 'a').filter((f) => f.includes('2.0'));
          assert.deepEqual(left, [], `step ${step}: ${spec} is gone from the pages`);
          assert.ok(existsSync(join(dir, '.dib-pypi', 'removed', 'a.json')), 'recorded');
          assert.deepEqual(pageFiles(dir, 'b'), ['b-1.0-py3-none-any.whl']);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      assert.ok(points >= 5, `only ${points} crash points`);
      t.diagnostic(`${points} crash points`);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });
}

function skipUnless(t: TestContext, problem: string | undefined): boolean {
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  return need(t, problem === undefined, problem ?? '');
}

/** pip install PACKAGE from the mirror by file:// into a fresh target; returns pip's output and the version installed. */
async function pipInstall(dir: string, requirement: string): Promise<{ output: string; version: string | undefined }> {
  await using target = makeTempDir('dib-pypi-yank-target-');
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const pip = await execa(
    DEBIAN_PYTHON,
    ['-m', 'pip', 'install', '--isolated', '--no-cache-dir', '--index-url', `file://${dir}`, '--target', target.path, requirement],
    { env, extendEnv: false, reject: false, all: true },
  );
  assert.equal(pip.exitCode, 0, pip.all);
  const version = readdirSync(target.path)
    .map((name) => /^yank_me-(.+)\.dist-info$/.exec(name)?.[1])
    .find((v) => v !== undefined);
  return { output: pip.all ?? '', version };
}

test('yank: real pip skips the yanked version unless pinned with ==, and warns with the reason; unyank takes it back', async (t) => {
  if (!skipUnless(t, await debianPipProblem())) return;
  await using mirror = makeTempDir('dib-pypi-yank-');
  const dir = mirror.path;
  mkdirSync(join(dir, 'yank-me'));
  await makeWheel(join(dir, 'yank-me'), { name: 'yank-me', version: '1.0' });
  await makeWheel(join(dir, 'yank-me'), { name: 'yank-me', version: '2.0' });
  makeSdist(join(dir, 'yank-me'), { name: 'yank-me', version: '2.0' });
  assert.equal(runCli(['mirror', 'index', dir]).status, 0);

  const yank = runCli(['mirror', 'yank', dir, 'Yank_Me==2.0', '--reason', 'broken build']);
  assert.equal(yank.status, 0, yank.stderr);
  assert.match(yank.stdout, /yanked yank-me==2.0 in .*: 2 file\(s\)/);
  assert.equal(readFileSync(join(dir, 'yank-me', 'yank_me-2.0-py3-none-any.whl.yanked'), 'utf8'), 'broken build\n');
  const page = JSON.parse(readFileSync(join(dir, 'yank-me', 'index.json'), 'utf8')) as { files: { filename: string; yanked?: unknown }[] };
  assert.deepEqual(
    page.files.map((f) => [f.filename, f.yanked]),
    [
      ['yank_me-1.0-py3-none-any.whl', undefined],
      ['yank_me-2.0-py3-none-any.whl', 'broken build'],
      ['yank_me-2.0.tar.gz', 'broken build'],
    ],
  );
  assert.match(
    readFileSync(join(dir, 'yank-me', 'index.html'), 'utf8'),
    /yank_me-2\.0-py3-none-any\.whl#sha256=[0-9a-f]+" data-core-metadata="[^"]+" data-yanked="broken build"/,
  );
  assert.equal(runCli(['mirror', 'verify', dir]).status, 0);

  assert.equal((await pipInstall(dir, 'yank-me')).version, '1.0', 'unpinned: the yanked 2.0 is skipped');
  const pinned = await pipInstall(dir, 'yank-me==2.0');
  assert.equal(pinned.version, '2.0');
  assert.match(pinned.output, /yanked version/);
  assert.match(pinned.output, /Reason for being yanked: broken build/);

  const bad = runCli(['mirror', 'yank', dir, 'yank-me==3.0']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no version 3.0 of yank-me/);
  assert.equal(runCli(['mirror', 'yank', dir, 'yank-me']).status, 2, 'a version is required');
  const control = runCli(['mirror', 'yank', dir, 'yank-me==2.0', '--reason', 'a\u001b[31mred']);
  assert.equal(control.status, 2);
  assert.match(control.stderr, /--reason: one line of text/);

  const unyank = runCli(['mirror', 'unyank', dir, 'yank-me==2.0']);
  assert.equal(unyank.status, 0, unyank.stderr);
  assert.ok(!existsSync(join(dir, 'yank-me', 'yank_me-2.0-py3-none-any.whl.yanked')));
  assert.equal((await pipInstall(dir, 'yank-me')).version, '2.0');
  assert.match(runCli(['mirror', 'unyank', dir, 'yank-me==2.0']).stdout, /already unyanked/);
});

test('mirror sync does not fetch back what mirror remove took out, until --forget', async () => {
  await using upstreamDir = makeTempDir('dib-pypi-remove-sync-upstream-');
  await using mirror = makeTempDir('dib-pypi-remove-sync-');
  for (const version of ['1.0', '2.0']) await makeWheel(join(upstreamDir.path, 'up'), { name: 'up', version });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  await using upstream = await startServe([upstreamDir.path]);
  // The upstream server re-checks a page on disk at most once a second: a sync right after a change could see the old one.
  const sync = async () => {
    await new Promise((done) => setTimeout(done, 1100));
    return runCli(['mirror', 'sync', mirror.path, '--upstream', upstream.url, '--project', 'up']);
  };
  assert.equal((await sync()).status, 0);
  assert.equal(runCli(['mirror', 'remove', mirror.path, 'up==2.0']).status, 0);
  // Upstream changes (a new version), so the next sync reads its page again.
  await makeWheel(join(upstreamDir.path, 'up'), { name: 'up', version: '3.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  const again = await sync();
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(pageFiles(mirror.path, 'up'), ['up-1.0-py3-none-any.whl', 'up-3.0-py3-none-any.whl']);
  assert.equal(runCli(['mirror', 'remove', '--forget', mirror.path, 'up==2.0']).status, 0);
  await makeWheel(join(upstreamDir.path, 'up'), { name: 'up', version: '4.0' });
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  assert.equal((await sync()).status, 0);
  assert.deepEqual(pageFiles(mirror.path, 'up'), ['up-1.0-py3-none-any.whl', 'up-2.0-py3-none-any.whl', 'up-3.0-py3-none-any.whl', 'up-4.0-py3-none-any.whl']);
});

test('a removal journal never deletes through a symlink: a path whose directory became a link outside is left alone', async () => {
  await using mirror = makeTempDir('dib-pypi-remove-journal-');
  await using outside = makeTempDir('dib-pypi-remove-journal-outside-');
  const victim = await makeWheel(outside.path, { name: 'evil', version: '1.0' });
  await makeWheel(join(mirror.path, 'ok'), { name: 'ok', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', mirror.path]).status, 0);
  symlinkSync(outside.path, join(mirror.path, 'evil'));
  const work = join(mirror.path, '.dib-pypi', 'removing', 'x');
  mkdirSync(work, { recursive: true });
  const paths = ['evil/evil-1.0-py3-none-any.whl', '../outside.whl', '/etc/passwd'];
  writeFileSync(join(work, 'journal.json'), JSON.stringify({ version: 1, paths: [paths[0]] }));
  const finished = runCli(['mirror', 'index', mirror.path]);
  assert.equal(finished.status, 0, finished.stderr);
  assert.ok(existsSync(victim), 'the file outside is still there');
  assert.ok(!existsSync(work), 'the journal is done with');
  for (const path of paths.slice(1)) {
    mkdirSync(work, { recursive: true });
    writeFileSync(join(work, 'journal.json'), JSON.stringify({ version: 1, paths: [path] }));
    assert.equal(runCli(['mirror', 'index', mirror.path]).status, 0);
  }
  assert.ok(existsSync('/etc/passwd'));
  assert.equal(runCli(['mirror', 'verify', mirror.path]).status, 0);
});
