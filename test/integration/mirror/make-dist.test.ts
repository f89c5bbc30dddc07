// The make-dist fixture writes distributions and an index that Debian's real pip installs from, offline.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { makeSdist, makeWheel, writeSimpleIndex } from '../../helpers/make-dist.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { isRequired, need } from '../../helpers/require.js';

test('pip installs wheels and an sdist from a make-dist index', async (t) => {
  // Required in CI (CI=true or DIB_PYPI_REQUIRE_ALL=1): a missing pip there is a broken machine, not a pass.
  const problem = await debianPipProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  if (!need(t, problem === undefined, problem ?? '')) return;
  await using index = makeTempDir('dib-pypi-index-');
  await using target = makeTempDir('dib-pypi-target-');

  const demo = await makeWheel(index.path, { name: 'Demo.Pkg', version: '1.0', requires: ['dep-lib'], requiresPython: '>=3.7' });
  const dep = await makeWheel(index.path, { name: 'dep_lib', version: '2.0' });
  const sdist = makeSdist(index.path, { name: 'tiny-sdist', version: '0.1' });
  assert.deepEqual(
    [demo, dep, sdist].map((p) => p.slice(index.path.length + 1)),
    ['demo_pkg-1.0-py3-none-any.whl', 'dep_lib-2.0-py3-none-any.whl', 'tiny_sdist-0.1.tar.gz'],
  );
  assert.deepEqual(writeSimpleIndex(index.path), ['demo-pkg', 'dep-lib', 'tiny-sdist']);
  assert.match(readFileSync(join(index.path, 'demo-pkg', 'index.html'), 'utf8'), /href="\.\.\/demo_pkg-1\.0-py3-none-any\.whl#sha256=[0-9a-f]{64}"/);

  // Every RECORD row (path, sha256 urlsafe-b64, size) must match the member, as installers check.
  const checkRecord = [
    'import base64, csv, hashlib, io, sys, zipfile',
    'z = zipfile.ZipFile(sys.argv[1]); names = set(z.namelist())',
    'rec = [n for n in names if n.endswith(".dist-info/RECORD")][0]',
    'rows = list(csv.reader(io.TextIOWrapper(z.open(rec), "utf-8")))',
    'assert {r[0] for r in rows} == names, (sorted(names), rows)',
    'for path, digest, size in rows:',
    '    if path == rec: assert digest == size == "", path; continue',
    '    data = z.read(path)',
    '    assert digest == "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode(), path',
    '    assert int(size) == len(data), path',
    'print(len(rows))',
  ].join('\n');
  const checked = await execa(DEBIAN_PYTHON, ['-c', checkRecord, demo], { env: envWithoutPip(process.env), extendEnv: false });
  assert.equal(checked.stdout, '4');

  // PIP_CONFIG_FILE=/dev/null: pip reads no config file at all (not this machine's /etc/pip.conf or ~/.config/pip).
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: '/dev/null' });
  const args = [
    '-m',
    'pip',
    'install',
    '--no-cache-dir',
    '--no-build-isolation',
    '--index-url',
    `file://${index.path}`,
    '--target',
    target.path,
    'demo.pkg',
    'tiny-sdist',
  ];
  const install = await execa(DEBIAN_PYTHON, args, { env, extendEnv: false, reject: false, all: true });
  assert.equal(install.exitCode, 0, `pip install failed:\n${install.all}`);
  for (const distInfo of ['demo_pkg-1.0.dist-info', 'dep_lib-2.0.dist-info', 'tiny_sdist-0.1.dist-info']) {
    assert.ok(existsSync(join(target.path, distInfo, 'RECORD')), `${distInfo} missing in --target:\n${install.all}`);
  }

  const probe = [
    'import importlib.metadata as m, demo_pkg, dep_lib, tiny_sdist',
    'print(demo_pkg.__version__, dep_lib.__version__, tiny_sdist.__version__)',
    'print(m.metadata("demo-pkg")["Name"], m.requires("demo-pkg"), m.metadata("demo-pkg")["Requires-Python"])',
  ].join('\n');
  const imported = await execa(DEBIAN_PYTHON, ['-c', probe], { env: { ...env, PYTHONPATH: target.path }, extendEnv: false, cwd: target.path });
  assert.equal(imported.stdout, "1.0 2.0 0.1\nDemo.Pkg ['dep-lib'] >=3.7");
});
