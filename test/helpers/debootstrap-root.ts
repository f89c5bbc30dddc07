// Test fixture: real Debian bookworm roots (debootstrap minbase + Debian's pip, setuptools, wheel).
// debootstrap runs once per machine (about 45 s); its root is kept as a tarball outside the repo,
// under /var/cache/dib-pypi-test/, named by a hash of its inputs (delete the directory to refresh
// it from the mirror), and each test extracts a fresh copy under /var/tmp (1 to 10 s: 11k files;
// ext4 creates inodes slowly right after many were deleted). The mirror is the machine's own
// Debian mirror, read from /etc/apt/sources.list.d/ at run time.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { mountsAtOrBelow } from '../../src/fs/mounts.js';

export const CACHE_DIR = '/var/cache/dib-pypi-test';
/** Where fresh roots are extracted (about 200 MB each). */
export const ROOTS_DIR = '/var/tmp';
const ROOT_PREFIX = 'dib-pypi-bookworm-';

const SUITE = 'bookworm';
const VARIANT = 'minbase';
const INCLUDE = ['python3-pip', 'python3-setuptools', 'python3-wheel'];
/** Bump when what is done to the root after debootstrap (see `tidyRoot`) changes: it is part of the cache key. */
const RECIPE = 1;

const DEBOOTSTRAP_TIMEOUT_MS = 10 * 60_000;
const LOCK_WAIT_SECONDS = 15 * 60;
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';

function progress(line: string): void {
  process.stderr.write(`[debootstrap-root] ${line}\n`);
}

// ---------------------------------------------------------------------------------------------
// The machine: debootstrap, the architecture, the Debian mirror.

function findDebootstrap(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/sbin'];
  return dirs.map((d) => join(d, 'debootstrap')).find((p) => existsSync(p));
}

function commandWorks(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', env: { ...process.env, PATH: `${process.env.PATH ?? ''}:${SYSTEM_PATH}` } }).status === 0;
}

/** dpkg's architecture name of this machine (amd64, arm64, ...). */
export function debianArchitecture(): string {
  const dpkg = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' });
  if (dpkg.status === 0 && dpkg.stdout.trim() !== '') return dpkg.stdout.trim();
  const byNode: Record<string, string> = { x64: 'amd64', arm64: 'arm64', ia32: 'i386', ppc64: 'ppc64el', s390x: 's390x', riscv64: 'riscv64' };
  return byNode[process.arch] ?? process.arch;
}

export interface AptSource {
  uri: string;
  suites: string[];
  signedBy?: string;
}

/** deb822 stanzas of a `.sources` file: `Key: value` fields, continuation lines, `#` comments. */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n[ \t]*\n/)) {
    const fields = new Map<string, string>();
    let last: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^[ \t]/.test(line) && last !== undefined) {
        fields.set(last, `${fields.get(last) ?? ''}\n${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon < 1) continue;
      last = line.slice(0, colon).trim().toLowerCase();
      fields.set(last, line.slice(colon + 1).trim());
    }
    const words = (key: string) => (fields.get(key) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb')) continue;
    if (['no', 'false', 'off'].includes((fields.get('enabled') ?? 'yes').toLowerCase())) continue;
    const signedBy = fields.get('signed-by');
    for (const uri of words('uris')) {
      sources.push({ uri, suites: words('suites'), ...(signedBy !== undefined && !signedBy.includes('\n') ? { signedBy } : {}) });
    }
  }
  return sources;
}

/** One-line `deb [options] URI suite components...` entries of a `.list` file. */
function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const raw of text.split('\n')) {
    const line = raw
      .replace(/#.*/, '')
      .replace(/\[[^\]]*\]/, ' ')
      .trim();
    const [type, uri, suite] = line.split(/\s+/);
    if (type === 'deb' && uri !== undefined && suite !== undefined) sources.push({ uri, suites: [suite] });
  }
  return sources;
}

function aptSources(): AptSource[] {
  const dir = '/etc/apt/sources.list.d';
  const sources: AptSource[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dir).sort();
  } catch {
    // no sources.list.d
  }
  for (const name of names) {
    try {
      if (name.endsWith('.sources')) sources.push(...parseDeb822Sources(readFileSync(join(dir, name), 'utf8')));
      else if (name.endsWith('.list')) sources.push(...parseOneLineSources(readFileSync(join(dir, name), 'utf8')));
    } catch {
      // unreadable: skip
    }
  }
  try {
    sources.push(...parseOneLineSources(readFileSync('/etc/apt/sources.list', 'utf8')));
  } catch {
    // no sources.list
  }
  return sources;
}

/**
 * The machine's Debian archive mirror: the first `deb` source carrying the suite itself (not
 * -security, -updates, ...); else the first one whose path ends in /debian. Undefined when none.
 */
export function debianMirror(sources: AptSource[] = aptSources()): { url: string; keyring?: string } | undefined {
  const candidates = sources.filter((s) => /^(https?|file):\/\//.test(s.uri) && !/debian-security\/?$/.test(s.uri));
  const found = candidates.find((s) => s.suites.includes(SUITE)) ?? candidates.find((s) => /\/debian\/?$/.test(s.uri));
  if (found === undefined) return undefined;
  const keyring = found.signedBy?.startsWith('/') && existsSync(found.signedBy) ? found.signedBy : undefined;
  return { url: found.uri.replace(/\/+$/, ''), ...(keyring !== undefined ? { keyring } : {}) };
}

/** Why a bookworm root cannot be made here, or undefined when it can. */
export function debootstrapProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'making a Debian root needs root (debootstrap, device nodes, file owners)';
  if (findDebootstrap() === undefined) return "debootstrap is missing: install Debian's debootstrap (apt-get install -y debootstrap)";
  if (debianMirror() === undefined) return `no Debian mirror for ${SUITE} found in /etc/apt/sources.list.d/ (a deb822 URIs: line)`;
  if (!commandWorks('flock', ['--version'])) return "flock is missing: install Debian's util-linux";
  if (!commandWorks('tar', ['--version'])) return "tar is missing: install Debian's tar";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Mount-aware removal: never rm -rf a tree with something mounted inside it.

/** Mount points at or below `path` in this process's mount namespace, in mount order. */
export const mountsAtOrUnder = mountsAtOrBelow;

function assertRemovable(path: string): void {
  const allowed = [`${ROOTS_DIR}/${ROOT_PREFIX}`, `${CACHE_DIR}/`];
  if (!allowed.some((a) => path.startsWith(a)) || path.includes('/../')) throw new Error(`refusing to remove ${path}: not a tree this helper made`);
}

/**
 * Remove a tree made by this helper: first unmount what is left mounted inside it (`umount -l`,
 * newest first, each reported), refuse if anything is still mounted, then `rm -rf
 * --one-file-system` (which would not cross a mount that appeared meanwhile either).
 */
export function removeTreeSafely(path: string): void {
  assertRemovable(path);
  const leftovers = mountsAtOrUnder(path);
  for (const mount of [...leftovers].reverse()) {
    const result = spawnSync('umount', ['-l', mount], { encoding: 'utf8', env: { ...process.env, PATH: SYSTEM_PATH } });
    progress(`left mounted: ${mount}: ${result.status === 0 ? 'unmounted (umount -l)' : `umount -l failed: ${result.stderr.trim()}`}`);
  }
  const still = mountsAtOrUnder(path);
  if (still.length > 0) throw new Error(`refusing to remove ${path}: still mounted inside it: ${still.join(', ')}`);
  const rm = spawnSync('rm', ['-rf', '--one-file-system', '--', path], { encoding: 'utf8' });
  if (rm.status !== 0 || existsSync(path)) throw new Error(`rm -rf ${path} failed: ${rm.stderr.trim() || `exit ${rm.status}`}`);
}

// ---------------------------------------------------------------------------------------------
// Build once per machine: a lock file, a work dir beside the target, an atomic rename.

/** Lock `lockPath` exclusively (flock(2) on an open file description this process keeps); returns its fd and the release. */
async function lockExclusive(lockPath: string, what: string): Promise<{ fd: number; release: () => void }> {
  const fd = openSync(lockPath, 'a', 0o644);
  // flock(1) locks the file description it inherits as fd 3; the lock stays with this process's
  // descriptor after flock exits and goes away when we close it, or when this process dies.
  const flock = (args: string[]) =>
    new Promise<number | null>((resolve, reject) => {
      const child = spawn('flock', [...args, '3'], { stdio: ['ignore', 'ignore', 'inherit', fd] });
      child.once('error', reject);
      child.once('exit', (code) => resolve(code));
    });
  try {
    if ((await flock(['-x', '-n'])) !== 0) {
      progress(`waiting for another process building ${what} (lock ${lockPath})`);
      const code = await flock(['-x', '-w', String(LOCK_WAIT_SECONDS)]);
      if (code !== 0) throw new Error(`could not lock ${lockPath} within ${LOCK_WAIT_SECONDS} s (flock exit ${code})`);
    }
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return { fd, release: () => closeSync(fd) };
}

/**
 * The file `target`, made once by `build` if missing. `build` gets a fresh work dir beside the
 * target and returns the path of the finished file inside it, which is then fsynced and renamed
 * onto `target`. Concurrent callers (other processes too) wait for one build; readers never see
 * a half-written file (it appears by rename). Work dirs left by a crashed build are removed.
 * `build` also gets the lock's fd: handed to its child processes (see `run`), the lock outlives
 * this process while they still work in the work dir (a killed test runner orphans debootstrap).
 */
export async function buildOnce(target: string, build: (workDir: string, lockFd: number) => Promise<string>): Promise<string> {
  if (existsSync(target)) return target;
  const dir = dirname(target);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const { fd: lockFd, release } = await lockExclusive(`${target}.lock`, basename(target));
  try {
    if (existsSync(target)) return target;
    const workPrefix = `${basename(target)}.build-`;
    for (const stale of readdirSync(dir).filter((n) => n.startsWith(workPrefix))) {
      progress(`removing ${join(dir, stale)}, left by an earlier build that did not finish`);
      removeTreeSafely(join(dir, stale));
    }
    const workDir = mkdtempSync(join(dir, workPrefix));
    try {
      const made = await build(workDir, lockFd);
      const fd = openSync(made, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(made, target);
      const dirFd = openSync(dir, 'r');
      try {
        fsyncSync(dirFd);
      } finally {
        closeSync(dirFd);
      }
    } finally {
      removeTreeSafely(workDir);
    }
    return target;
  } finally {
    release();
  }
}

// ---------------------------------------------------------------------------------------------
// The bookworm root.

export interface RootInputs {
  suite: string;
  variant: string;
  include: string[];
  architecture: string;
  mirror: string;
  recipe: number;
}

export function bookwormInputs(): RootInputs {
  const mirror = debianMirror();
  if (mirror === undefined) throw new Error(debootstrapProblem() ?? 'no Debian mirror');
  return { suite: SUITE, variant: VARIANT, include: [...INCLUDE].sort(), architecture: debianArchitecture(), mirror: mirror.url, recipe: RECIPE };
}

/** `/var/cache/dib-pypi-test/bookworm-minbase-amd64-<sha256 of the inputs, 16 hex>.tar`. */
export function cachePathFor(inputs: RootInputs): string {
  const key = createHash('sha256').update(JSON.stringify(inputs)).digest('hex').slice(0, 16);
  return join(CACHE_DIR, `${inputs.suite}-${inputs.variant}-${inputs.architecture}-${key}.tar`);
}

/** Fd number at which `run` hands a lock to its command (debootstrap itself uses 3 to 6). */
const LOCK_FD_IN_CHILD = 9;

/**
 * Run a command, with its output lines to `onLine`; rejects with the last lines on failure.
 * `lockFd`: also open in the command (and its children) as fd 9, so the lock is held while they run.
 */
function run(command: string, args: string[], options: { onLine?: (line: string) => void; lockFd?: number; timeoutMs?: number } = {}): Promise<void> {
  const { onLine = () => {}, lockFd, timeoutMs = DEBOOTSTRAP_TIMEOUT_MS } = options;
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PATH: SYSTEM_PATH, LC_ALL: 'C', LANG: 'C', DEBIAN_FRONTEND: 'noninteractive' };
    const stdio: Array<'ignore' | 'pipe' | number> = ['ignore', 'pipe', 'pipe'];
    if (lockFd !== undefined) {
      while (stdio.length < LOCK_FD_IN_CHILD) stdio.push('ignore');
      stdio.push(lockFd);
    }
    const child = spawn(command, args, { stdio, env });
    const tail: string[] = [];
    let partial = '';
    const take = (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        onLine(line);
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (partial !== '') {
        tail.push(partial);
        onLine(partial);
      }
      if (code === 0) resolve();
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${tail.join('\n')}`));
    });
  });
}

/** debootstrap's `I:` lines, one per phase instead of one per package. */
function debootstrapProgress(started: number): (line: string) => void {
  let phase: string | undefined;
  let count = 0;
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(0)} s`;
  const endPhase = () => {
    if (phase !== undefined) progress(`  ${phase}: ${count} packages (${seconds()})`);
    phase = undefined;
    count = 0;
  };
  return (raw) => {
    const line = raw.trimEnd();
    // Per package: "I: Retrieving libc6 2.36-9+deb12u10" then "I: Validating libc6 2.36-9+deb12u10" (counted
    // once), "I: Unpacking libc6..."; not "I: Unpacking the base system...".
    if (/^I: Validating \S+ \d\S*$/.test(line)) return;
    const perPackage = /^I: (Retrieving) \S+ \d\S*$/.exec(line) ?? /^I: (Extracting|Unpacking|Configuring) \S+\.\.\.$/.exec(line);
    if (perPackage !== null) {
      if (perPackage[1] !== phase) {
        endPhase();
        phase = perPackage[1];
      }
      count++;
      return;
    }
    endPhase();
    if (/^[IWE]: /.test(line)) progress(`  ${line} (${seconds()})`);
  };
}

/**
 * What debootstrap leaves that a cached test root should not carry: the downloaded .debs and apt's
 * lists and caches (about 95 MB; the root's sources.list still names the mirror), and the build
 * host's /etc/hostname and /etc/resolv.conf (debootstrap copies them in).
 */
function tidyRoot(root: string): void {
  const archives = join(root, 'var/cache/apt/archives');
  for (const name of readdirSync(archives)) if (name.endsWith('.deb')) rmSync(join(archives, name));
  for (const name of readdirSync(join(root, 'var/cache/apt'))) if (name.endsWith('.bin')) rmSync(join(root, 'var/cache/apt', name));
  const lists = join(root, 'var/lib/apt/lists');
  for (const name of readdirSync(lists)) if (name !== 'partial' && name !== 'lock') rmSync(join(lists, name), { recursive: true });
  writeFileSync(join(root, 'etc/hostname'), 'localhost\n');
  writeFileSync(join(root, 'etc/resolv.conf'), '');
  chmodSync(join(root, 'etc/hostname'), 0o644); // debootstrap copies the host's, mode and all
  chmodSync(join(root, 'etc/resolv.conf'), 0o644);
}

async function buildBookwormTar(workDir: string, lockFd: number, inputs: RootInputs): Promise<string> {
  const debootstrap = findDebootstrap();
  const mirror = debianMirror();
  if (debootstrap === undefined || mirror === undefined) throw new Error(debootstrapProblem() ?? 'cannot debootstrap');
  const root = join(workDir, 'root');
  const started = Date.now();
  progress(
    `building ${inputs.suite} ${inputs.variant} (${inputs.architecture}) with ${inputs.include.join(', ')} from ${inputs.mirror} in ${root}; once per machine, about a minute`,
  );
  const args = [
    `--variant=${inputs.variant}`,
    `--include=${inputs.include.join(',')}`,
    `--arch=${inputs.architecture}`,
    ...(mirror.keyring !== undefined ? [`--keyring=${mirror.keyring}`] : []),
    inputs.suite,
    root,
    inputs.mirror,
  ];
  await run(debootstrap, args, { onLine: debootstrapProgress(started), lockFd });
  const left = mountsAtOrUnder(root);
  if (left.length > 0) throw new Error(`debootstrap left mounts in ${root}: ${left.join(', ')}`);
  tidyRoot(root);
  const tar = join(workDir, 'root.tar');
  progress(`debootstrap done in ${((Date.now() - started) / 1000).toFixed(0)} s; writing ${tar}`);
  await run('tar', ['--numeric-owner', '-C', root, '-cpf', tar, '.'], { lockFd });
  writeFileSync(join(workDir, 'inputs.json'), JSON.stringify(inputs, null, 2) + '\n');
  progress(`cached root ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return tar;
}

let pending: Promise<string> | undefined;

/**
 * The tarball of a Debian bookworm minbase root with python3-pip, python3-setuptools and
 * python3-wheel, made with debootstrap on first use and then reused (other processes included).
 */
export function cachedBookwormRoot(): Promise<string> {
  if (pending === undefined) {
    const attempt = (async () => {
      const problem = debootstrapProblem();
      if (problem !== undefined) throw new Error(`cannot make a bookworm root: ${problem}`);
      const inputs = bookwormInputs();
      const target = cachePathFor(inputs);
      await buildOnce(target, async (workDir, lockFd) => {
        const tar = await buildBookwormTar(workDir, lockFd, inputs);
        // The inputs beside the tarball, for people looking at the cache.
        renameSync(join(workDir, 'inputs.json'), `${target.slice(0, -'.tar'.length)}.json`);
        return tar;
      });
      return target;
    })();
    pending = attempt;
    attempt.catch(() => {
      if (pending === attempt) pending = undefined; // a failed build may be retried
    });
  }
  return pending;
}

export interface BookwormRoot extends AsyncDisposable {
  /** A fresh bookworm root of this test's own, under /var/tmp. */
  root: string;
}

/** A fresh copy of the cached bookworm root in a new directory under /var/tmp; dispose removes it (mount-aware). */
export async function makeBookwormRoot(): Promise<BookwormRoot> {
  const tar = await cachedBookwormRoot();
  const root = mkdtempSync(join(ROOTS_DIR, ROOT_PREFIX));
  try {
    await run('tar', ['--numeric-owner', '-xpf', tar, '-C', root]);
  } catch (error) {
    removeTreeSafely(root);
    throw error;
  }
  let removed = false;
  return {
    root,
    async [Symbol.asyncDispose]() {
      if (removed) return;
      removeTreeSafely(root);
      removed = true;
    },
  };
}
