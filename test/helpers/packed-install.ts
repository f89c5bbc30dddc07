// Test fixture: this project as a user gets it: `npm pack`, then `npm install -g` of the tarball into
// an empty prefix, offline (no registry: the package has no dependencies), and its installed
// `dib-pypi` run with a PATH that holds node and the system's tools, but no other dib-pypi.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { childPidsOf } from './nginx.js';

/** The project's root (the directory npm packs). */
export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** Node's own directory first (the installed bin's `#!/usr/bin/env -S node --` finds it there), then the system's tools. */
export const INSTALLED_PATH = [...new Set([dirname(process.execPath), '/usr/sbin', '/usr/bin', '/sbin', '/bin'])].join(':');

export interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

/** What `npm pack --json` says about the tarball. */
export interface PackInfo {
  filename: string;
  /** Bytes of the .tgz. */
  size: number;
  unpackedSize: number;
  files: PackedFile[];
}

export interface InstalledPackage {
  /** The directory everything is in: the tarball, npm's home and cache, the prefix. */
  work: string;
  tarball: string;
  pack: PackInfo;
  /** The --prefix of `npm install -g`. */
  prefix: string;
  /** PREFIX/bin/dib-pypi (npm's symlink to the package's bin/dib-pypi.cjs). */
  bin: string;
  /** PREFIX/lib/node_modules/dib-pypi, symlinks resolved. */
  packageDir: string;
  /** Wall time of `npm install -g` of the tarball. */
  installSeconds: number;
  /** Its output (npm's warnings included). */
  installOutput: string;
}

/** The environment npm runs with: a home, cache and user config of its own, and a registry on a closed loopback port, so any registry access fails at once. */
export function npmEnv(work: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    // npm run / npm test hand their own config to children as npm_config_*: none of it may steer this install.
    if (value === undefined || /^(npm_|NPM_|DIB_|PYPI_|PIP_)/.test(name)) continue;
    env[name] = value;
  }
  const home = join(work, 'home');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, '.npmrc'), '');
  return {
    ...env,
    PATH: INSTALLED_PATH,
    HOME: home,
    npm_config_userconfig: join(home, '.npmrc'),
    npm_config_cache: join(work, 'npm-cache'),
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  };
}

/** Why npm cannot be run here, or undefined. */
export function npmProblem(): string | undefined {
  const result = spawnSync('npm', ['--version'], { encoding: 'utf8', env: { PATH: INSTALLED_PATH } });
  return result.status === 0 ? undefined : `npm is not on ${INSTALLED_PATH} (it comes with node)`;
}

function runNpm(args: string[], options: { cwd: string; env: Record<string, string> }): { stdout: string; stderr: string } {
  const result = spawnSync('npm', args, { ...options, encoding: 'utf8', timeout: 5 * 60_000 });
  if (result.status !== 0) throw new Error(`npm ${args.join(' ')} failed (${result.status ?? result.signal}):\n${result.stdout}\n${result.stderr}`);
  return { stdout: result.stdout, stderr: result.stderr };
}

/**
 * Pack the project into `work` and install the tarball into the empty prefix `work/prefix`.
 * `npm pack --ignore-scripts`: the tests run after `npm run build` (which is what the `prepare`
 * script that a plain `npm pack` runs does), so dist/cli is current; running tsc again here would
 * rewrite dist/test under the running tests.
 */
export function packAndInstall(work: string): InstalledPackage {
  const env = npmEnv(work);
  const packed = JSON.parse(runNpm(['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: PROJECT_ROOT, env }).stdout) as PackInfo[];
  const pack = packed[0];
  if (pack === undefined) throw new Error('npm pack --json printed no package');
  const tarball = join(work, pack.filename);
  const prefix = join(work, 'prefix');
  mkdirSync(prefix);
  const started = process.hrtime.bigint();
  const install = runNpm(['install', '--global', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', tarball], { cwd: work, env });
  const installSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bin = join(prefix, 'bin', 'dib-pypi');
  if (!existsSync(bin)) throw new Error(`npm install -g did not make ${bin}:\n${install.stdout}\n${install.stderr}`);
  return {
    work,
    tarball,
    pack,
    prefix,
    bin,
    packageDir: realpathSync(join(prefix, 'lib', 'node_modules', 'dib-pypi')),
    installSeconds,
    installOutput: install.stdout + install.stderr,
  };
}

/** The installed package's manifest, as npm unpacked it. */
export function installedManifest(installed: InstalledPackage): Record<string, unknown> {
  return JSON.parse(readFileSync(join(installed.packageDir, 'package.json'), 'utf8')) as Record<string, unknown>;
}

export interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment the installed CLI runs with: the machine's, without DIB_/PYPI_/PIP_/npm_ variables, and INSTALLED_PATH. */
export function installedEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || /^(npm_|NPM_|DIB_|PYPI_|PIP_)/.test(name)) continue;
    env[name] = value;
  }
  return { ...env, PATH: INSTALLED_PATH, ...extra };
}

/** Run the installed `dib-pypi` itself (its shebang, its symlink), as a user's shell would. */
export function runInstalled(installed: InstalledPackage, args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): RunResult {
  const result = spawnSync(installed.bin, args, { env: options.env ?? installedEnv(), cwd: options.cwd, encoding: 'utf8', timeout: 5 * 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface InstalledServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  child: ChildProcess;
  output: () => string;
}

/**
 * Start the installed `dib-pypi serve ARGS --port 0` and wait for the URL it prints. `wrapper`
 * (e.g. setpriv ... strace -f ...) runs it; dispose then sends SIGTERM to the wrapper's children
 * (strace would leave its tracee running) and waits for the wrapper to end.
 */
export function startInstalledServe(
  installed: InstalledPackage,
  args: string[],
  env: Record<string, string> = installedEnv(),
  wrapper: string[] = [],
): Promise<InstalledServer> {
  const [command, ...commandArgs] = [...wrapper, installed.bin, 'serve', '--port', '0', ...args] as [string, ...string[]];
  const child = spawn(command, commandArgs, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  const stop = async () => {
    if (wrapper.length === 0) child.kill('SIGTERM');
    else for (const pid of childPidsOf(child.pid as number)) process.kill(pid, 'SIGTERM');
    await exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the installed dib-pypi serve did not print its URL within 30 s:\n${output}`));
    }, 30_000);
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/[^ ]+:\d+\/) /.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      resolve({ url: match[1] as string, child, output: () => output, [Symbol.asyncDispose]: stop });
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the installed dib-pypi serve exited (${code}) before printing its URL:\n${output}`));
    });
  });
}
