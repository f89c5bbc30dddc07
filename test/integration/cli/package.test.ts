// The package as users get it: `npm pack`, `npm install -g` of the tarball into an empty prefix
// offline (no dependencies, so no registry), and from there `dib-pypi --version`, `element-path`,
// a `mirror index` on worker threads, `serve` with bcrypt uploads and pip installing from it, a
// `mirror sync` (its writer thread), the docker bundle (dockerode without its native add-ons), a
// real `disk-image-create` with the element found through `dib-pypi element-path`; the systemd
// unit checked by `systemd-analyze verify` against the installed binary, and the installed serve
// run with the unit's identity (another user, no capabilities, no new privileges) under strace.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { execa } from 'execa';
import { runCli } from '../../helpers/cli.js';
import { buildImage, dibProblem, listTar, writeElement } from '../../helpers/dib.js';
import { makeElementMirror, MIRROR_MODULES, pipInstallHook } from '../../helpers/element-mirror.js';
import { makeWheel } from '../../helpers/make-dist.js';
import {
  installedEnv,
  installedManifest,
  INSTALLED_PATH,
  npmEnv,
  npmProblem,
  packAndInstall,
  PROJECT_ROOT,
  runInstalled,
  startInstalledServe,
  type InstalledPackage,
} from '../../helpers/packed-install.js';
import { DEBIAN_PYTHON, debianPipProblem, envWithoutPip, makeTempDir } from '../../helpers/python.js';
import { hasCommand, isRequired, isRoot, need } from '../../helpers/require.js';

const LONG = { timeout: 15 * 60_000 };
/** What may be in the tarball: the CLI bundle, its launcher, the element, docs, the systemd unit. */
const ALLOWED_DIRS = ['bin/', 'dist/cli/', 'elements/', 'docs/', 'contrib/'];
const ALLOWED_FILES = ['LICENSE', 'README.md', 'package.json'];
const PROJECT_VERSION = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

let work: string | undefined;
let installedPackage: InstalledPackage | undefined;

/** Packed and installed once for the whole file (a few seconds). */
function installed(): InstalledPackage {
  work ??= mkdtempSync(join(tmpdir(), 'dib-pypi-package-'));
  installedPackage ??= packAndInstall(work);
  return installedPackage;
}

after(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

function canPack(t: TestContext): boolean {
  const problem = npmProblem() ?? (existsSync(join(PROJECT_ROOT, 'dist', 'cli', 'dib-pypi.cjs')) ? undefined : 'dist/cli is missing: run npm run build');
  return need(t, problem === undefined, problem ?? '');
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}

test('npm pack: the bundled CLI, elements, docs, contrib, README and LICENSE; no dependencies, no install scripts, no native code', async (t) => {
  if (!canPack(t)) return;
  const { pack, installSeconds } = installed();
  t.diagnostic(
    `tarball ${pack.filename}: ${kib(pack.size)}, unpacked ${kib(pack.unpackedSize)}, ${pack.files.length} files; npm install -g into an empty prefix: ${installSeconds.toFixed(2)} s`,
  );
  const paths = pack.files.map((f) => f.path).sort();
  const stray = paths.filter((p) => !ALLOWED_FILES.includes(p) && !ALLOWED_DIRS.some((d) => p.startsWith(d)));
  assert.deepEqual(stray, [], 'only what users need (no dist/test, dist/src, dist/bench, src, test)');

  const commands = readdirSync(join(PROJECT_ROOT, 'src', 'cli'))
    .filter((n) => n.endsWith('-command.ts'))
    .map((n) => `dist/cli/${n.replace(/\.ts$/, '.cjs')}`);
  const required = [
    'LICENSE',
    'README.md',
    'bin/dib-pypi.cjs',
    'dist/cli/dib-pypi.cjs',
    'dist/cli/inspect-worker.cjs',
    'dist/cli/sync-writer-thread.cjs',
    'dist/cli/THIRD-PARTY-LICENSES.txt',
    ...commands,
    'elements/pypi/README.rst',
    'elements/pypi/extra-data.d/50-pypi-configure',
    'elements/pypi/post-root.d/10-pypi-restore',
    'docs/mirror-layout.md',
    'contrib/systemd/dib-pypi.service',
    'contrib/systemd/README.md',
  ];
  assert.deepEqual(
    required.filter((p) => !paths.includes(p)),
    [],
    'missing from the tarball',
  );
  assert.deepEqual(
    paths.filter((p) => p.endsWith('.node') || p.endsWith('binding.gyp')),
    [],
    'no native add-on',
  );
  for (const hook of ['bin/dib-pypi.cjs', 'elements/pypi/extra-data.d/50-pypi-configure', 'elements/pypi/post-root.d/10-pypi-restore']) {
    assert.equal((pack.files.find((f) => f.path === hook)?.mode ?? 0) & 0o111, 0o111, `${hook} is executable in the tarball`);
  }

  const manifest = installedManifest(installed());
  for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies']) {
    assert.deepEqual(Object.keys((manifest[field] as Record<string, string> | undefined) ?? {}), [], `${field}: the bundle carries every runtime dependency`);
  }
  const scripts = (manifest.scripts as Record<string, string> | undefined) ?? {};
  assert.deepEqual(
    ['preinstall', 'install', 'postinstall'].filter((s) => s in scripts),
    [],
    'no install scripts run for users',
  );
  assert.match(readFileSync(join(installed().packageDir, 'LICENSE'), 'utf8'), /^\s*Apache License\s+Version 2\.0, January 2004/);
  assert.equal(manifest.license, 'Apache-2.0');
  // What the bundles carry, the package names with its license: every former runtime dependency at least.
  const notices = readFileSync(join(installed().packageDir, 'dist', 'cli', 'THIRD-PARTY-LICENSES.txt'), 'utf8');
  const devDependencies = Object.keys(
    (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies,
  );
  const bundled = ['@noble/hashes', '@renovatebot/pep440', 'bcryptjs', 'busboy', 'dockerode', 'dotenv', 'execa', 'ini', 'smol-toml', 'undici', 'yauzl', 'ssh2'];
  assert.deepEqual(
    bundled.filter((name) => !new RegExp(`^${name.replace(/[./]/g, '\\$&')} \\d+\\.\\d+\\.\\d+ \\(`, 'm').test(notices)),
    [],
    'listed in dist/cli/THIRD-PARTY-LICENSES.txt',
  );
  assert.ok(
    bundled.filter((name) => name !== 'ssh2').every((name) => devDependencies.includes(name)),
    'the bundled packages are build-time (dev) dependencies',
  );
});

test('installed from the tarball into an empty prefix: no node_modules, --version, element-path, hooks executable', async (t) => {
  if (!canPack(t)) return;
  const pkg = installed();
  assert.ok(!existsSync(join(pkg.packageDir, 'node_modules')), 'npm installed nothing beside the package');
  assert.doesNotMatch(pkg.installOutput, /added [2-9]|added \d\d/, 'one package added, no dependency');
  // npm 11's allowScripts review lists `prepare` (kept for installs from git, where npm builds the
  // package) although npm never runs it for a tarball or registry install: say so when it does.
  if (/install-scripts/.test(pkg.installOutput))
    t.diagnostic(
      `npm ${spawnSync('npm', ['--version'], { encoding: 'utf8', env: { PATH: INSTALLED_PATH } }).stdout.trim()} warned about the prepare script (not run for this install)`,
    );

  const version = runInstalled(pkg, ['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), PROJECT_VERSION);

  const elementPath = runInstalled(pkg, ['element-path']);
  assert.equal(elementPath.status, 0, elementPath.stderr);
  assert.equal(elementPath.stdout, `${join(pkg.packageDir, 'elements')}\n`);
  const asJson = runInstalled(pkg, ['element-path', '--json']);
  assert.equal(asJson.status, 0, asJson.stderr);
  assert.deepEqual(JSON.parse(asJson.stdout), { elementsPath: join(pkg.packageDir, 'elements'), element: join(pkg.packageDir, 'elements', 'pypi') });
  const extra = runInstalled(pkg, ['element-path', 'more']);
  assert.equal(extra.status, 2, 'element-path takes no argument');
  assert.match(runInstalled(pkg, ['--help']).stdout, /element-path/);

  // npx runs it from the tarball too (its own install into npx's cache, offline: nothing to fetch).
  const npx = spawnSync('npx', ['--yes', '--offline', '--package', pkg.tarball, 'dib-pypi', '--version'], {
    env: npmEnv(pkg.work),
    cwd: pkg.work,
    encoding: 'utf8',
    timeout: 5 * 60_000,
  });
  assert.equal(npx.status, 0, npx.stdout + npx.stderr);
  assert.equal(npx.stdout.trim(), PROJECT_VERSION);

  for (const hook of ['extra-data.d/50-pypi-configure', 'post-root.d/10-pypi-restore']) {
    assert.equal(statSync(join(pkg.packageDir, 'elements', 'pypi', hook)).mode & 0o111, 0o111, `${hook} is executable (DIB runs only executables)`);
  }

  // Every command's bundle loads in a bare node (no NODE_PATH, no node_modules anywhere above it) and exports its run function.
  const load = `const { readdirSync } = require('node:fs');
for (const file of readdirSync(process.argv[1]).filter((f) => f.endsWith('-command.cjs')).sort()) {
  const run = Object.keys(require(process.argv[1] + '/' + file)).filter((k) => k.startsWith('run'));
  console.log(file + ' ' + run.join(','));
}`;
  const loaded = spawnSync(process.execPath, ['-e', load, join(pkg.packageDir, 'dist', 'cli')], { cwd: '/', env: { PATH: INSTALLED_PATH }, encoding: 'utf8' });
  assert.equal(loaded.status, 0, loaded.stderr);
  const bundles = loaded.stdout.trim().split('\n');
  assert.equal(bundles.length, readdirSync(join(PROJECT_ROOT, 'src', 'cli')).filter((n) => n.endsWith('-command.ts')).length, loaded.stdout);
  assert.deepEqual(
    bundles.filter((line) => !/ run[A-Za-z]+$/.test(line)),
    [],
    'each exports one run function',
  );
});

test(
  'the installed CLI: mirror index on worker threads, serve with a bcrypt upload and pip installing from it, mirror sync from it, the docker bundle',
  LONG,
  async (t) => {
    if (!canPack(t)) return;
    const pipProblem = await debianPipProblem();
    if (!need(t, pipProblem === undefined, pipProblem ?? '')) return;
    const toolProblem = !hasCommand('twine')
      ? "twine is missing: install Debian's twine"
      : !hasCommand('htpasswd', ['-nbB', 'a', 'b'])
        ? "htpasswd is missing: install Debian's apache2-utils"
        : undefined;
    if (!need(t, toolProblem === undefined, toolProblem ?? '')) return;
    const pkg = installed();
    await using dir = makeTempDir('dib-pypi-package-use-');
    const mirror = join(dir.path, 'mirror');

    // More files than the indexer inspects inline (256), so its worker threads (dist/cli/inspect-worker.cjs) start.
    await makeWheel(mirror, { name: 'App.Core', version: '1.0', requires: ['Zope.Interface_Thing>=2'] });
    await makeWheel(mirror, { name: 'Zope.Interface_Thing', version: '2.1' });
    for (let i = 0; i < 300; i++) await makeWheel(join(mirror, 'filler'), { name: 'filler', version: `1.0.${i}` });
    const indexed = runInstalled(pkg, ['mirror', 'index', mirror, '--json'], { env: installedEnv({ DIB_PYPI_DEBUG_TIMING: '1' }) });
    assert.equal(indexed.status, 0, indexed.stdout + indexed.stderr);
    assert.equal((JSON.parse(indexed.stdout) as { files: number }).files, 302);
    const threads = Number(/inspect \(\d+ files, (\d+) threads\)/.exec(indexed.stderr)?.[1] ?? 'NaN');
    assert.ok(threads > 0, `the indexer ran on worker threads:\n${indexed.stderr}`);

    const password = 'package-test-password';
    const htpasswd = join(dir.path, 'htpasswd');
    execFileSync('htpasswd', ['-cbB', htpasswd, 'alice', password], { stdio: 'ignore' });
    await using server = await startInstalledServe(pkg, [mirror, '--upload-auth', htpasswd, '--workers', '1']);

    // An upload checked against the bcrypt entry (bcryptjs and busboy, bundled).
    const uploaded = await makeWheel(join(dir.path, 'upload'), { name: 'Private.Pkg', version: '1.0' });
    const twineEnv: Record<string, string> = { ...envWithoutPip(installedEnv()), PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' };
    for (const name of Object.keys(twineEnv)) if (name.startsWith('TWINE_')) delete twineEnv[name];
    const twine = await execa(
      'twine',
      ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', server.url, '-u', 'alice', '-p', password, uploaded],
      { env: twineEnv, extendEnv: false, reject: false, all: true },
    );
    assert.equal(twine.exitCode, 0, twine.all);

    // Debian's pip installs from the installed server: a dependency, and the uploaded project.
    const target = join(dir.path, 'target');
    const pip = await execa(
      DEBIAN_PYTHON,
      [
        '-m',
        'pip',
        '--isolated',
        '--disable-pip-version-check',
        'install',
        '--no-cache-dir',
        '--index-url',
        `${server.url}simple/`,
        '--target',
        target,
        'APP_core',
        'private.pkg',
      ],
      { env: envWithoutPip(installedEnv()), extendEnv: false, reject: false, all: true },
    );
    assert.equal(pip.exitCode, 0, pip.all);
    for (const module of ['app_core', 'zope_interface_thing', 'private_pkg'])
      assert.ok(existsSync(join(target, module, '__init__.py')), `${module} installed:\n${pip.all}`);

    // mirror sync from the server (undici, and the sync's writer thread dist/cli/sync-writer-thread.cjs).
    const synced = join(dir.path, 'synced');
    const sync = runInstalled(pkg, ['mirror', 'sync', synced, '--upstream', `${server.url}simple/`, '--project', 'app-core', '--project', 'private-pkg']);
    assert.equal(sync.status, 0, sync.stdout + sync.stderr);
    assert.deepEqual(
      readdirSync(join(synced, 'app-core')).filter((f) => f.endsWith('.whl')),
      ['app_core-1.0-py3-none-any.whl'],
    );
    assert.deepEqual(readFileSync(join(synced, 'private-pkg', 'private_pkg-1.0-py3-none-any.whl')), readFileSync(uploaded));

    // The docker run bundle (dockerode, ssh2 without cpu-features or sshcrypto.node) loads and reaches for the engine.
    const docker = runInstalled(pkg, ['docker', 'run', 'dib-pypi-no-such-image', '--mirror', mirror, '--offline', '--', 'true'], {
      env: installedEnv({ DOCKER_HOST: `unix://${join(dir.path, 'no-docker.sock')}` }),
    });
    assert.equal(docker.status, 1, docker.stdout + docker.stderr);
    assert.match(docker.stderr, /cannot reach the Docker engine/);
    assert.doesNotMatch(docker.stderr, /Cannot find module|MODULE_NOT_FOUND/);
    if (hasCommand('/usr/bin/docker', ['version'])) {
      // A real round trip through dockerode to the engine here: it answers that the image is not there.
      const engine = runInstalled(pkg, ['docker', 'run', 'dib-pypi-no-such-image:none', '--mirror', mirror, '--offline', '--', 'true']);
      assert.equal(engine.status, 2, engine.stdout + engine.stderr); // a bad IMAGE argument
      assert.match(engine.stderr, /no such image here/);
    } else {
      t.diagnostic('no Docker engine answers here: docker run checked against a missing socket only');
    }
    const context = join(dir.path, 'context');
    mkdirSync(context);
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nRUN true\n');
    const build = runInstalled(pkg, ['docker', 'build', '--mirror', mirror, '--offline', context], {
      env: installedEnv({ DIB_PYPI_DOCKER: join(dir.path, 'no-docker') }),
    });
    assert.equal(build.status, 1, build.stdout + build.stderr);
    assert.match(build.stderr, /cannot run .*no-docker/);
  },
);

test('the installed pypi element in a real offline disk-image-create, found through dib-pypi element-path, running the installed CLI', LONG, async (t) => {
  if (!canPack(t)) return;
  const problem = dibProblem();
  if (problem !== undefined && !isRequired) console.log(`skipping: ${problem}`);
  if (!need(t, problem === undefined, problem ?? '')) return;
  const pkg = installed();
  // No dib-pypi on the PATH and no DIB_PYPI_BIN: the element can only run the CLI of its own package.
  const onPath = spawnSync('sh', ['-c', 'command -v dib-pypi'], { env: { PATH: INSTALLED_PATH }, encoding: 'utf8' });
  assert.notEqual(onPath.status, 0, `a dib-pypi on ${INSTALLED_PATH} (${onPath.stdout.trim()}) would make this test prove nothing`);
  const elementsPath = runInstalled(pkg, ['element-path']).stdout.trim();

  await using elements = makeTempDir('dib-pypi-package-elements-');
  await using cache = makeTempDir('dib-pypi-package-cache-');
  writeElement(elements.path, 'dib-pypi-test-pip-user', { 'install.d/50-dib-pypi-test-pip-user': pipInstallHook() });
  const mirror = join(cache.path, 'pypi', 'mirror');
  await makeElementMirror(mirror);

  await using build = await buildImage({
    elements: ['pypi', 'dib-pypi-test-pip-user'],
    extraElementsPaths: [elementsPath, elements.path],
    env: { DIB_IMAGE_CACHE: cache.path },
    args: ['--offline'],
  });
  t.diagnostic(`disk-image-create exit ${build.exitCode} after ${build.seconds.toFixed(1)} s`);
  assert.equal(build.exitCode, 0, build.log.split('\n').slice(-80).join('\n'));
  assert.match(
    build.log,
    new RegExp(`Copying hooks ${elementsPath}/pypi/extra-data\\.d/50-pypi-configure`),
    "the installed element, not the checkout's or DIB's",
  );
  assert.match(build.log, /Looking in indexes: file:\/\/\/tmp\/pypi/);
  assert.match(build.log, /DIB-PYPI-TEST imported/);
  assert.match(build.log, /restored \S+\/mnt: unmounted \/tmp\/pypi/);
  assert.deepEqual(build.mountsLeft, []);
  const listing = await listTar(build.tar);
  for (const module of MIRROR_MODULES) assert.ok(listing.has(`/usr/local/lib/python3.11/dist-packages/${module}/__init__.py`), `${module} is in the image`);
  assert.ok(!listing.has('/etc/pip.conf') && !listing.has('/tmp/pypi'), 'nothing of the element stays in the image');
});

test('element-path in a checkout: its elements directory', async (t) => {
  if (!canPack(t)) return;
  const result = runCli(['element-path']);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stdout, `${realpathSync(join(PROJECT_ROOT, 'elements'))}\n`);
});

test('contrib/systemd/dib-pypi.service: hardened, and systemd-analyze verify accepts it with ExecStart at the installed binary', async (t) => {
  if (!canPack(t)) return;
  if (!need(t, hasCommand('systemd-analyze'), "systemd-analyze is missing: install Debian's systemd")) return;
  const unit = readFileSync(join(PROJECT_ROOT, 'contrib', 'systemd', 'dib-pypi.service'), 'utf8');
  const settings = unit.split('\n').filter((line) => /^[A-Za-z]+=/.test(line));
  for (const wanted of [
    'DynamicUser=yes',
    'StateDirectory=dib-pypi',
    'ProtectSystem=strict',
    'ReadWritePaths=%S/dib-pypi',
    'NoNewPrivileges=yes',
    'ProtectHome=yes',
    'PrivateTmp=yes',
    'CapabilityBoundingSet=',
    'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX',
    'SystemCallFilter=@system-service',
  ]) {
    assert.ok(settings.includes(wanted), `${wanted} in the unit`);
  }
  assert.deepEqual(
    settings.filter((s) => s.startsWith('ReadWritePaths=')),
    ['ReadWritePaths=%S/dib-pypi'],
    'the mirror is the only writable path',
  );
  const execStart = settings.filter((s) => s.startsWith('ExecStart='));
  assert.deepEqual(execStart, ['ExecStart=/usr/local/bin/dib-pypi serve %S/dib-pypi $SERVE_ARGS']);

  // verify checks that ExecStart's binary exists: point it at the installed one (/usr/local/bin/dib-pypi is not installed here).
  const pkg = installed();
  await using dir = makeTempDir('dib-pypi-systemd-');
  const copy = join(dir.path, 'dib-pypi.service');
  writeFileSync(copy, unit.replace('ExecStart=/usr/local/bin/dib-pypi ', `ExecStart=${pkg.bin} `));
  const verify = spawnSync('systemd-analyze', ['verify', '--man=no', copy], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
  // verify exits 0 on an unknown or misspelt setting, with a warning: none may be printed.
  assert.equal(verify.stdout + verify.stderr, '', 'no warning from systemd-analyze verify');

  const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', copy], { encoding: 'utf8' });
  const exposure = Number(/Overall exposure level for dib-pypi\.service: ([\d.]+)/.exec(security.stdout)?.[1] ?? 'NaN');
  t.diagnostic(`systemd-analyze security --offline: exposure ${exposure} (0 = locked down, 10 = unprotected)`);
  assert.ok(exposure <= 2, `exposure ${exposure} > 2:\n${security.stdout}${security.stderr}`);

  assert.match(readFileSync(join(PROJECT_ROOT, 'contrib', 'systemd', 'dib-pypi.env'), 'utf8'), /^SERVE_ARGS=/m, 'the example environment file sets SERVE_ARGS');
  assert.ok(realpathSync(pkg.bin).endsWith('/bin/dib-pypi.cjs'));
});

/** The system calls a unit's SystemCallFilter= lines allow: the allow list, less every `~` list, groups expanded by systemd-analyze. */
function allowedSyscalls(unit: string): Set<string> {
  const expand = (names: string[], seen = new Set<string>()): Set<string> => {
    const calls = new Set<string>();
    for (const name of names) {
      if (!name.startsWith('@')) {
        calls.add(name);
        continue;
      }
      if (seen.has(name)) continue;
      seen.add(name);
      const listed = execFileSync('systemd-analyze', ['syscall-filter', '--no-pager', name], { encoding: 'utf8' });
      const members = listed
        .split('\n')
        .slice(1)
        .map((line) => line.trim())
        .filter((line) => line !== '' && !line.startsWith('#'));
      for (const call of expand(members, seen)) calls.add(call);
    }
    return calls;
  };
  const lines = unit
    .split('\n')
    .filter((line) => line.startsWith('SystemCallFilter='))
    .map((line) => line.slice('SystemCallFilter='.length).trim());
  const allowed = expand(lines.filter((l) => !l.startsWith('~')).flatMap((l) => l.split(/\s+/)));
  for (const call of expand(lines.filter((l) => l.startsWith('~')).flatMap((l) => l.slice(1).split(/\s+/)))) allowed.delete(call);
  return allowed;
}

/** The system calls in an `strace -f` log. */
function tracedSyscalls(trace: string): Set<string> {
  return new Set([...trace.matchAll(/^\d+\s+([a-z0-9_]+)\(/gm)].map((m) => m[1] as string));
}

/** System calls that write to the file system at a path. */
const WRITING_CALLS =
  /^\d+\s+(open|openat|openat2|creat|mkdir|mkdirat|rename|renameat|renameat2|unlink|unlinkat|rmdir|link|linkat|symlink|symlinkat|chmod|fchmodat|chown|lchown|fchownat|truncate|utimensat|mknod|mknodat|setxattr|lsetxattr|removexattr|lremovexattr)\((.*)$/;

/** Every path an `strace -f -s 4096` log shows written (opened for writing, created, renamed, removed, ...). */
function writtenPaths(trace: string): string[] {
  const paths: string[] = [];
  for (const line of trace.split('\n')) {
    const match = WRITING_CALLS.exec(line);
    if (match === null) continue;
    const [, call, rest] = match as unknown as [string, string, string];
    if (call.startsWith('open') && !/O_WRONLY|O_RDWR|O_CREAT|O_TRUNC/.test(rest)) continue;
    for (const quoted of rest.matchAll(/"((?:[^"\\]|\\.)*)"/g)) paths.push(quoted[1] as string);
  }
  return paths;
}

const NOBODY = 65534;
/**
 * Calls outside @system-service that node makes and gets along without: V8 probes memory protection
 * keys (pkey_alloc) and goes on without them when refused, as the unit's SystemCallErrorNumber=EPERM does.
 */
const REFUSED_SOFTLY = ['pkey_alloc'];

test(
  'the installed serve as the unit runs it: an unprivileged user with no capabilities and no new privileges, writing only inside the mirror, making only system calls the unit allows',
  LONG,
  async (t) => {
    if (!canPack(t)) return;
    if (!need(t, isRoot, 'switching to an unprivileged user needs root')) return;
    const problem = !hasCommand('systemd-analyze')
      ? "systemd-analyze is missing: install Debian's systemd"
      : !hasCommand('strace', ['-V'])
        ? "strace is missing: install Debian's strace"
        : !hasCommand('setpriv', ['--version'])
          ? "setpriv is missing: install Debian's util-linux"
          : !hasCommand('twine')
            ? "twine is missing: install Debian's twine"
            : !hasCommand('htpasswd', ['-nbB', 'a', 'b'])
              ? "htpasswd is missing: install Debian's apache2-utils"
              : ((await debianPipProblem()) ?? undefined);
    if (!need(t, problem === undefined, problem ?? '')) return;
    const pkg = installed();
    chmodSync(pkg.work, 0o755); // mkdtemp made it 0700: the unprivileged user must reach the installed package
    await using dir = makeTempDir('dib-pypi-unit-run-');
    chmodSync(dir.path, 0o755);
    const mirror = join(dir.path, 'mirror');
    const traces = join(dir.path, 'traces');
    for (const owned of [mirror, traces]) {
      mkdirSync(owned);
      chownSync(owned, NOBODY, NOBODY);
    }
    const password = 'unit-test-password';
    const htpasswd = join(dir.path, 'htpasswd');
    execFileSync('htpasswd', ['-cbB', htpasswd, 'alice', password], { stdio: 'ignore' });
    chmodSync(htpasswd, 0o644);
    // The unit's identity, short of its namespaces: another user (DynamicUser=), CapabilityBoundingSet= and
    // AmbientCapabilities= empty, NoNewPrivileges=yes; HOME=/ as systemd gives a dynamic user.
    const asTheUnit = (trace: string) => [
      'setpriv',
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      '--no-new-privs',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      'strace',
      '-f',
      '-qq',
      '-s',
      '4096',
      '-o',
      join(traces, trace),
    ];
    const env = installedEnv({ HOME: '/' });

    // One process with uploads (as with --upload-auth), then the unit's default: worker processes.
    {
      await using server = await startInstalledServe(pkg, [mirror, '--upload-auth', htpasswd], env, asTheUnit('uploads.trace'));
      const uploaded = await makeWheel(join(dir.path, 'upload'), { name: 'Private.Pkg', version: '1.0' });
      const twineEnv: Record<string, string> = { ...envWithoutPip(installedEnv()), PYTHON_KEYRING_BACKEND: 'keyring.backends.null.Keyring' };
      for (const name of Object.keys(twineEnv)) if (name.startsWith('TWINE_')) delete twineEnv[name];
      const twine = await execa(
        'twine',
        ['upload', '--non-interactive', '--disable-progress-bar', '--repository-url', server.url, '-u', 'alice', '-p', password, uploaded],
        { env: twineEnv, extendEnv: false, reject: false, all: true },
      );
      assert.equal(twine.exitCode, 0, `${twine.all}\n${server.output()}`);
    }
    {
      await using server = await startInstalledServe(pkg, [mirror, '--workers', '2'], env, asTheUnit('workers.trace'));
      const target = join(dir.path, 'target');
      const pip = await execa(
        DEBIAN_PYTHON,
        [
          '-m',
          'pip',
          '--isolated',
          '--disable-pip-version-check',
          'install',
          '--no-cache-dir',
          '--index-url',
          `${server.url}simple/`,
          '--target',
          target,
          'private.pkg',
        ],
        { env: envWithoutPip(installedEnv()), extendEnv: false, reject: false, all: true },
      );
      assert.equal(pip.exitCode, 0, `${pip.all}\n${server.output()}`);
    }

    const uploadsTrace = readFileSync(join(traces, 'uploads.trace'), 'utf8');
    const workersTrace = readFileSync(join(traces, 'workers.trace'), 'utf8');
    const nodeProcesses = new Set([...workersTrace.matchAll(/^(\d+)\s+execve\("[^"]*\/node", /gm)].map((m) => m[1]));
    assert.ok(nodeProcesses.size >= 3, `the primary process and two workers ran (node in ${nodeProcesses.size} processes)`);
    const notOwned = readdirSync(mirror, { recursive: true })
      .map(String)
      .filter((p) => statSync(join(mirror, p)).uid !== NOBODY);
    assert.deepEqual(notOwned, [], 'everything in the mirror was written by the unprivileged user');
    // ReadWritePaths= the mirror only: every path written lies inside it.
    const written = [...writtenPaths(uploadsTrace), ...writtenPaths(workersTrace)];
    assert.ok(written.length > 0, 'the traces show the writes (upload, index)');
    assert.deepEqual([...new Set(written.filter((p) => p !== mirror && !p.startsWith(`${mirror}/`)))], [], 'paths written outside the mirror');
    const allowed = allowedSyscalls(readFileSync(join(PROJECT_ROOT, 'contrib', 'systemd', 'dib-pypi.service'), 'utf8'));
    const used = new Set([...tracedSyscalls(uploadsTrace), ...tracedSyscalls(workersTrace)]);
    t.diagnostic(`${used.size} distinct system calls made, ${allowed.size} allowed by the unit; ${written.length} writes at a path, all inside the mirror`);
    assert.deepEqual(
      [...used].filter((call) => !allowed.has(call) && !REFUSED_SOFTLY.includes(call)).sort(),
      [],
      "system calls the unit's SystemCallFilter= would refuse",
    );
  },
);
