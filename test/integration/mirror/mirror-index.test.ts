// `mirror index` on real distributions, installed from by real pip (Debian's 23.0.1 and a newer one) over file://.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { runCli } from '../../helpers/cli.js';
import { makeSdist, makeWheel } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, envWithoutPip } from '../../helpers/python.js';
import { hasCommand, need } from '../../helpers/require.js';
import { listTree } from '../../helpers/tree-listing.js';
import { nginxProblem, startNginx } from '../../helpers/nginx.js';

// The sdist is built with Debian's python3-setuptools + python3-wheel; the newer pip's Python has no `wheel`.
const PYTHONS = [
  { label: "Debian's pip 23.0.1", python: DEBIAN_PYTHON, sdist: true },
  { label: 'a newer pip (python3 on PATH, pip 23.2)', python: 'python3', sdist: false },
];

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A mirror as users fill it: files in project directories and loose at the top, an odd name, deps, extras, an sdist. */
async function makeMirror(): Promise<string> {
  const dir = tempDir('dib-pypi-mirror-');
  mkdirSync(join(dir, 'app-core'));
  await makeWheel(join(dir, 'app-core'), {
    name: 'App.Core',
    version: '1.0',
    requires: ['Zope.Interface_Thing>=2', 'extra-dep; extra == "full"'],
    providesExtra: ['full'],
    requiresPython: '>=3.7',
  });
  await makeWheel(join(dir, 'app-core'), { name: 'App.Core', version: '0.9' });
  await makeWheel(dir, { name: 'Zope.Interface_Thing', version: '2.1' }); // loose at the top level
  await makeWheel(dir, { name: 'Zope.Interface_Thing', version: '1.0' });
  mkdirSync(join(dir, 'extra-dep'));
  await makeWheel(join(dir, 'extra-dep'), { name: 'extra_dep', version: '3.0' });
  mkdirSync(join(dir, 'only-sdist'));
  makeSdist(join(dir, 'only-sdist'), { name: 'only-sdist', version: '0.5', requiresPython: '>=3' });
  await makeWheel(dir, { name: 'too-new', version: '1.0', requiresPython: '>=4' });
  return dir;
}

function index(dir: string, ...args: string[]) {
  const result = runCli(['mirror', 'index', dir, ...args]);
  return result;
}

function pip(python: string, args: string[]) {
  return spawnSync(python, ['-m', 'pip', '--isolated', '--disable-pip-version-check', ...args], {
    env: envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' }),
    encoding: 'utf8',
  });
}

function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('mirror index', () => {
  test('writes PEP 503 + 691 pages and PEP 658 metadata, deterministically', async () => {
    const dir = await makeMirror();
    try {
      const first = index(dir);
      assert.equal(first.status, 0, first.stderr);
      assert.match(first.stdout, /indexed .*: 5 projects, 7 files \(7 inspected/);
      const root = readFileSync(join(dir, 'index.html'), 'utf8');
      for (const p of ['app-core', 'extra-dep', 'only-sdist', 'too-new', 'zope-interface-thing']) assert.ok(root.includes(`<a href="${p}/">${p}</a>`), p);
      const zope = JSON.parse(readFileSync(join(dir, 'zope-interface-thing', 'index.json'), 'utf8'));
      assert.deepEqual(zope.versions, ['1.0', '2.1']);
      const wheel = 'zope_interface_thing-2.1-py3-none-any.whl';
      const entry = zope.files.find((f: { filename: string }) => f.filename === wheel);
      assert.equal(entry.url, `../${wheel}`);
      assert.equal(entry.hashes.sha256, sha256(join(dir, wheel)));
      assert.equal(entry.size, statSync(join(dir, wheel)).size);
      assert.equal(entry['core-metadata'].sha256, sha256(join(dir, `${wheel}.metadata`)));
      assert.match(readFileSync(join(dir, `${wheel}.metadata`), 'utf8'), /^Name: Zope\.Interface_Thing$/m);
      const appHtml = readFileSync(join(dir, 'app-core', 'index.html'), 'utf8');
      assert.match(appHtml, /data-requires-python="&gt;=3\.7"/);
      assert.ok(!appHtml.includes('dist-info-metadata'));
      const sdistPage = JSON.parse(readFileSync(join(dir, 'only-sdist', 'index.json'), 'utf8'));
      assert.equal(sdistPage.files[0]['requires-python'], '>=3');
      assert.equal(sdistPage.files[0]['core-metadata'], undefined, 'sdists get no PEP 658 metadata');

      // the mirror as served: everything but dib-pypi's own state
      const served = () => listTree(dir).filter((line) => !line.startsWith('".dib-pypi'));
      const before = served();
      const again = index(dir);
      assert.equal(again.status, 0, again.stderr);
      assert.match(again.stdout, /\(0 inspected, 0 written, 0 removed\)/);
      assert.deepEqual(served(), before, 'a re-run changed files');
      // byte-identical from scratch too (no timestamps in any generated file)
      const pages = ['index.html', 'index.json', 'app-core/index.html', 'app-core/index.json', `${wheel}.metadata`].map((p) => readFileSync(join(dir, p)));
      rmSync(join(dir, '.dib-pypi'), { recursive: true });
      for (const p of ['index.html', 'index.json', 'app-core/index.html', 'app-core/index.json']) rmSync(join(dir, p));
      assert.equal(index(dir, '--full').status, 0);
      assert.deepEqual(
        ['index.html', 'index.json', 'app-core/index.html', 'app-core/index.json', `${wheel}.metadata`].map((p) => readFileSync(join(dir, p))),
        pages,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('is incremental: adding, removing and yanking files redoes only their projects', async () => {
    const dir = await makeMirror();
    try {
      assert.equal(index(dir).status, 0);
      const zopeBefore = readFileSync(join(dir, 'zope-interface-thing', 'index.html'));
      mkdirSync(join(dir, 'new-project'));
      await makeWheel(join(dir, 'new-project'), { name: 'new-project', version: '1.0' });
      rmSync(join(dir, 'extra-dep', 'extra_dep-3.0-py3-none-any.whl'));
      writeFileSync(join(dir, 'app-core', 'app_core-0.9-py3-none-any.whl.yanked'), 'use 1.0\n');
      const result = index(dir, '--json');
      assert.equal(result.status, 0, result.stderr);
      const summary = JSON.parse(result.stdout);
      assert.equal(summary.inspected, 1, 'only the new file is read');
      assert.equal(summary.projects, 5);
      assert.ok(existsSync(join(dir, 'new-project', 'index.html')));
      assert.ok(!existsSync(join(dir, 'extra-dep', 'index.html')), 'a project with no file left loses its page');
      assert.ok(!existsSync(join(dir, 'extra-dep', 'extra_dep-3.0-py3-none-any.whl.metadata')), 'its .metadata goes too');
      assert.match(
        readFileSync(join(dir, 'app-core', 'index.html'), 'utf8'),
        /app_core-0\.9-py3-none-any\.whl#sha256=[0-9a-f]{64}" data-core-metadata="sha256=[0-9a-f]{64}" data-yanked="use 1\.0"/,
      );
      assert.deepEqual(readFileSync(join(dir, 'zope-interface-thing', 'index.html')), zopeBefore);
      const root = readFileSync(join(dir, 'index.html'), 'utf8');
      assert.ok(root.includes('new-project/') && !root.includes('extra-dep/'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('reports broken files with their paths, indexes the rest, exits 1', async () => {
    const dir = await makeMirror();
    try {
      const truncated = join(dir, 'app-core', 'app_core-1.0-py3-none-any.whl');
      truncateSync(truncated, Math.floor(statSync(truncated).size / 2));
      await makeWheel(dir, { name: 'no-meta', version: '1.0', omitMetadata: true });
      writeFileSync(join(dir, 'not-a-dist.whl'), 'x');
      const result = index(dir);
      assert.equal(result.status, 1);
      assert.match(result.stderr, /broken file skipped: app-core\/app_core-1\.0-py3-none-any\.whl: /);
      assert.match(result.stderr, /broken file skipped: no_meta-1\.0-py3-none-any\.whl: /);
      assert.match(result.stderr, /broken file skipped: not-a-dist\.whl: not a distribution file name/);
      const app = JSON.parse(readFileSync(join(dir, 'app-core', 'index.json'), 'utf8'));
      assert.deepEqual(
        app.files.map((f: { filename: string }) => f.filename),
        ['app_core-0.9-py3-none-any.whl'],
      );
      // reported again on the next run (the file is still broken), without being re-read
      const again = runCli(['mirror', 'index', dir, '--json']);
      assert.equal(again.status, 1);
      assert.equal(JSON.parse(again.stdout).inspected, 0);
      assert.equal(JSON.parse(again.stdout).problems.length, 3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const { label, python, sdist } of PYTHONS) {
    test(`${label} installs from the indexed mirror over file://, asking for names spelled unlike their METADATA`, async (t) => {
      if (!need(t, hasCommand(python, ['-m', 'pip', '--version']), `needs ${python} with pip`)) return;
      const dir = await makeMirror();
      const target = tempDir('dib-pypi-target-');
      try {
        assert.equal(index(dir).status, 0);
        const result = pip(python, [
          'install',
          '--no-cache-dir',
          '--index-url',
          `file://${dir}`,
          '--target',
          target,
          'APP_core[FULL]',
          'ZOPE.interface-THING',
          ...(sdist ? ['ONLY.SDIST', '--no-build-isolation'] : []),
        ]);
        assert.equal(result.status, 0, result.stdout + result.stderr);
        const installed = readdirSync(target)
          .filter((n) => /\.(dist|egg)-info$/.test(n))
          .map((n) => n.toLowerCase().replace(/\.(dist|egg)-info$/, ''))
          .sort();
        assert.deepEqual(installed, ['app_core-1.0', 'extra_dep-3.0', ...(sdist ? ['only_sdist-0.5'] : []), 'zope_interface_thing-2.1']);
        // requires-python reaches pip: a file for Python >= 4 is never chosen
        const tooNew = pip(python, ['download', '--no-cache-dir', '--index-url', `file://${dir}`, '-d', join(target, 'dl'), 'too-new']);
        assert.notEqual(tooNew.status, 0);
        assert.match(tooNew.stdout + tooNew.stderr, /Requires-Python|requires a different Python|No matching distribution/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(target, { recursive: true, force: true });
      }
    });
  }
});

describe('mirror index over HTTP (nginx with PEP 691 negotiation)', () => {
  for (const { label, python } of PYTHONS) {
    test(`${label} installs through nginx; a PEP 658-aware pip resolves from .metadata alone`, async (t) => {
      if (!need(t, nginxProblem() === undefined, nginxProblem() ?? '')) return;
      if (!need(t, hasCommand(python, ['-m', 'pip', '--version']), `needs ${python} with pip`)) return;
      const dir = await makeMirror();
      const target = tempDir('dib-pypi-target-');
      try {
        assert.equal(index(dir).status, 0);
        await using nginx = await startNginx(dir);
        // resolve only: pip 23.2 reads core-metadata (PEP 658/714) and resolves from the .metadata files;
        // it fetches wheels only after the resolution is complete (pip 23.2's --dry-run still downloads them)
        const report = join(target, 'report.json');
        const dry = pip(python, [
          'install',
          '--dry-run',
          '--ignore-installed',
          '--no-cache-dir',
          '--index-url',
          nginx.url,
          '--report',
          report,
          'APP_core[FULL]',
        ]);
        assert.equal(dry.status, 0, dry.stdout + dry.stderr);
        const resolved = JSON.parse(readFileSync(report, 'utf8'))
          .install.map((i: { metadata: { name: string } }) => i.metadata.name)
          .sort();
        assert.deepEqual(resolved, ['App.Core', 'Zope.Interface_Thing', 'extra_dep']);
        const requested = nginx.accessLog();
        if (python !== DEBIAN_PYTHON) {
          const lines = requested.split('\n');
          const lastMetadata = lines.findLastIndex((l) => /\.whl\.metadata /.test(l));
          const firstWheel = lines.findIndex((l) => /\.whl /.test(l));
          assert.equal(lines.filter((l) => /\.whl\.metadata 200 /.test(l)).length, 3, requested);
          assert.ok(firstWheel === -1 || firstWheel > lastMetadata, `a wheel was downloaded before resolution ended:\n${requested}`);
        } else {
          // Debian's pip 23.0.1 reads only the legacy data-dist-info-metadata, which we never emit (pip 12038/12108): it downloads wheels
          assert.doesNotMatch(requested, /\.metadata /);
        }
        // pip asks for JSON first (PEP 691) and gets it
        assert.match(requested, /GET \/app-core\/ /);
        const install = pip(python, ['install', '--no-cache-dir', '--index-url', nginx.url, '--target', join(target, 't'), 'app.core']);
        assert.equal(install.status, 0, install.stdout + install.stderr);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        rmSync(target, { recursive: true, force: true });
      }
    });
  }
});

test('the root JSON page digests every project page: unchanged by a no-op run, other after any page changes, the same from scratch as after incremental runs', async () => {
  const dir = tempDir('dib-pypi-digest-');
  try {
    for (const name of ['a', 'b']) {
      mkdirSync(join(dir, name));
      await makeWheel(join(dir, name), { name, version: '1.0' });
    }
    const digest = () => (JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { meta: Record<string, unknown> }).meta['_dib-pypi-pages'] as string;
    const reindexed = () => {
      const run = index(dir);
      assert.equal(run.status, 0, run.stderr);
      return digest();
    };
    const seen = [reindexed()];
    assert.match(seen[0] as string, /^[0-9a-f]{64}$/);
    assert.equal(reindexed(), seen[0], 'a run that changed nothing moved the digest');
    // every kind of page change: a yank mark, a new file, the mark gone again, a project gone
    const changes: [string, () => Promise<void> | void][] = [
      ['yanked', () => writeFileSync(join(dir, 'b', 'b-1.0-py3-none-any.whl.yanked'), 'bad build\n')],
      ['a new release', async () => void (await makeWheel(join(dir, 'a'), { name: 'a', version: '2.0' }))],
      ['unyanked', () => rmSync(join(dir, 'b', 'b-1.0-py3-none-any.whl.yanked'))],
      ['a project removed', () => rmSync(join(dir, 'b'), { recursive: true })],
    ];
    for (const [what, change] of changes) {
      await change();
      const now = reindexed();
      assert.ok(!seen.includes(now), `${what}: the digest did not move`);
      seen.push(now);
    }
    const root = readFileSync(join(dir, 'index.json'));
    rmSync(join(dir, '.dib-pypi'), { recursive: true });
    assert.equal(index(dir).status, 0);
    assert.deepEqual(readFileSync(join(dir, 'index.json')), root, 'from scratch: another root page');
    // a manifest from before the digest (no page CRCs in its head): the next page change still moves it
    const head = join(dir, '.dib-pypi', 'manifest.json');
    const data = JSON.parse(readFileSync(head, 'utf8')) as Record<string, unknown>;
    delete data.pageCrcs;
    delete data.pagesDigest;
    writeFileSync(head, JSON.stringify(data));
    const upgraded = reindexed();
    await makeWheel(join(dir, 'a'), { name: 'a', version: '3.0' });
    assert.notEqual(reindexed(), upgraded);
    const verified = runCli(['mirror', 'verify', dir]);
    assert.equal(verified.status, 0, verified.stdout + verified.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
