// The main job on a built-in example: a mirror, `dib-pypi configure` on a root, a real offline pip install, `restore`, root unchanged.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { $ } from 'zx';
import { makeWheel } from '../test/helpers/make-dist.js';
import { DEBIAN_PYTHON, envWithoutPip } from '../test/helpers/python.js';
import { changedPaths, diffListings, listTree } from '../test/helpers/tree-listing.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url)); // dist/examples/ -> the repository
const CLI = join(REPO, 'bin', 'dib-pypi.cjs');
const USER_PIP_CONF = "# the image's own pip settings, which must come back after the build\n[global]\ntimeout = 60\n";

let stepNumber = 0;
function step(title: string): void {
  console.log(`\n${++stepNumber}. ${title}`);
}
function say(text: string): void {
  for (const line of text.split('\n')) console.log(`   ${line}`);
}

class ExampleError extends Error {}
function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ExampleError(message);
}

/** The mirror's distributions: `hello-dib` 1.0 needs `dib-greeting`; both are wheels made here, with no network. */
async function makeMirror(mirror: string): Promise<void> {
  mkdirSync(mirror, { recursive: true });
  await makeWheel(mirror, {
    name: 'hello-dib',
    version: '1.0',
    requires: ['dib-greeting>=1.0'],
    modules: { 'hello_dib/__init__.py': 'from dib_greeting import greet\n\n\ndef main():\n    return greet("offline image")\n' },
  });
  await makeWheel(mirror, {
    name: 'dib-greeting',
    version: '1.0',
    modules: { 'dib_greeting/__init__.py': 'def greet(who):\n    return f"Hello, {who}! (from the dib-pypi example mirror)"\n' },
  });
}

/** A throwaway image root with /etc, /root and a user pip.conf (0600, an old mtime) that configure replaces. */
function makeRoot(root: string): void {
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'root', '.pip'), { recursive: true, mode: 0o700 });
  const pipConf = join(root, 'root', '.pip', 'pip.conf');
  writeFileSync(pipConf, USER_PIP_CONF);
  chmodSync(pipConf, 0o600);
  utimesSync(pipConf, new Date('2001-02-03T04:05:06.789Z'), new Date('2001-02-03T04:05:06.789Z'));
}

/** Commands run in exactly `env` (no variable of ours leaks in); a failure is the caller's to report. */
function shell(env: NodeJS.ProcessEnv, cwd?: string) {
  return $({ env, ...(cwd !== undefined ? { cwd } : {}), nothrow: true, quiet: true });
}

async function runCli(args: string[], cwd: string): Promise<string> {
  const result = await shell(envWithoutPip(process.env), cwd)`${process.execPath} ${CLI} ${args}`;
  check(result.ok, `dib-pypi ${args.join(' ')} failed (exit ${result.exitCode}):\n${result.stdall}`);
  return result.stdall.trimEnd();
}

/** `unshare --net` cuts every network but a down loopback; it needs root (or user namespaces). */
async function networkCutter(): Promise<string[]> {
  const probe = await shell(process.env)`unshare --net true`;
  return probe.ok ? ['unshare', '--net'] : [];
}

async function pipInstall(root: string, mirror: string, target: string, report: string): Promise<void> {
  const env = envWithoutPip(process.env, { PIP_CONFIG_FILE: join(root, 'etc', 'pip.conf') });
  const listed = await shell(env)`${DEBIAN_PYTHON} -m pip config list`;
  check(listed.ok, `pip config list failed:\n${listed.stdall}`);
  say(`pip settings in force (PIP_CONFIG_FILE=<root>/etc/pip.conf, no other PIP_* variable):\n${listed.stdall.trimEnd()}`);
  const fromHost = listed.stdout.split('\n').filter((l) => l !== '' && !l.startsWith(':env:') && !l.startsWith('global.index-url='));
  if (fromHost.length > 0)
    say(`(${fromHost.map((l) => l.split('=')[0]).join(', ')}: from this host's global pip config, which pip reads even with PIP_CONFIG_FILE)`);
  const cutter = await networkCutter();
  say(
    cutter.length > 0
      ? 'network: cut (pip runs under `unshare --net`)'
      : 'network: NOT cut (`unshare --net` is not permitted here); the install still uses only the mirror',
  );
  const pip = [DEBIAN_PYTHON, '-m', 'pip', 'install', '--no-cache-dir', '--target', target, '--report', report, 'hello-dib'];
  const result = await shell(env)`${[...cutter, ...pip]}`;
  check(result.ok, `${pip.join(' ')} failed (exit ${result.exitCode}):\n${result.stdall}`);
  say(
    result.stdall
      .split('\n')
      .filter((l) => /^(Looking in indexes|Successfully installed)/.test(l))
      .join('\n'),
  );

  const installed = (JSON.parse(readFileSync(report, 'utf8')) as { install: { download_info: { url: string } }[] }).install;
  const urls = installed.map((i) => i.download_info.url).sort();
  check(urls.length === 2 && urls.every((u) => u.startsWith(`file://${mirror}/`)), `pip did not take both files from the mirror: ${urls.join(', ')}`);
  say(`both files came from the mirror: ${urls.map((u) => u.slice(`file://${mirror}/`.length)).join(', ')}`);

  const run = await shell({ ...env, PYTHONPATH: target }, target)`${DEBIAN_PYTHON} -c ${'import hello_dib; print(hello_dib.main())'}`;
  check(run.ok, `the installed package does not run:\n${run.stdall}`);
  say(`python -c 'import hello_dib; print(hello_dib.main())' -> ${run.stdout.trimEnd()}`);
}

async function main(work: string): Promise<void> {
  const [mirror, root, state, target] = ['mirror', 'root', 'state', 'target'].map((name) => join(work, name)) as [string, string, string, string];

  step('make an example mirror: two bundled test wheels, indexed by dib-pypi mirror index');
  await makeMirror(mirror);
  say(`$ dib-pypi mirror index ${mirror}`);
  say(await runCli(['mirror', 'index', mirror], work));

  step('make a throwaway image root with /etc, /root and a user ~/.pip/pip.conf');
  makeRoot(root);
  const before = listTree(root);
  say(`${root}: ${before.length} entries recorded (path, type, mode, uid, gid, size, mtime ns, sha256)`);

  step('dib-pypi configure');
  say(`$ dib-pypi configure --root ${root} --mirror-url file://${mirror} --offline --state-dir ${state}`);
  say((await runCli(['configure', '--root', root, '--mirror-url', `file://${mirror}`, '--offline', '--state-dir', state], work)).trimEnd());
  const etcPipConf = readFileSync(join(root, 'etc', 'pip.conf'), 'utf8');
  check(etcPipConf.includes(`index-url = file://${mirror}\n`), `<root>/etc/pip.conf does not point at the mirror:\n${etcPipConf}`);
  check(readFileSync(join(root, 'root', '.pip', 'pip.conf'), 'utf8') === etcPipConf, 'the user pip.conf was not replaced by the mirror config');
  say(`<root>/etc/pip.conf:\n${etcPipConf.trimEnd()}`);
  say(`changed in the root: ${changedPaths(before, listTree(root)).join(', ')}`);

  step('pip install hello-dib, offline, with the configuration configure wrote');
  await pipInstall(root, mirror, target, join(work, 'pip-report.json'));

  step('dib-pypi restore');
  say(`$ dib-pypi restore --root ${root} --state-dir ${state}`);
  say((await runCli(['restore', '--root', root, '--state-dir', state], work)).trimEnd());

  step('compare the root with its listing from before configure');
  const diff = diffListings(before, listTree(root));
  check(diff.length === 0, `the root is not as it was:\n${diff.join('\n')}`);
  check(readFileSync(join(root, 'root', '.pip', 'pip.conf'), 'utf8') === USER_PIP_CONF, 'the user pip.conf did not come back');
  say(`byte-identical: ${before.length} entries, same content, mode, owner and mtime (user pip.conf back, 0600)`);
}

const work = mkdtempSync(join(tmpdir(), 'dib-pypi-example-'));
try {
  await main(work);
  console.log('\nOK');
} catch (error) {
  console.error(`\nFAILED: ${error instanceof ExampleError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
