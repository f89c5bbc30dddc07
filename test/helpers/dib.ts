// Test fixture: the real diskimage-builder (Debian's python3-diskimage-builder, 3.13), fast and offline.
//
// `buildImage` runs `disk-image-create -n -t tar -o WORK/out/image dib-pypi-test-base ...` with a
// test element generated here, `dib-pypi-test-base`, that stands in for `debian-minimal`: it
// `element-provides: operating-system` and its root.d unpacks the cached bookworm tarball of
// debootstrap-root.ts into $TARGET_ROOT instead of running debootstrap, so a build takes seconds
// and needs no network. `-n` leaves out DIB's `base` element (its pre-install.d runs apt-get update
// and its install.d `install-packages -u`). Nothing else in DIB's core downloads: DIB_OFFLINE /
// `--offline` is not needed to build, and is left to the caller (the pypi element reads it).
//
// DIB builds in its own tmpfs by default (when RAM >= 2 x DIB_MIN_TMPFS GB, else on disk with a
// warning): measured here, a build takes about 5 s that way and 9 to 16 s with `--no-tmpfs` (the
// 190 MB unpack alone: 0.3 s in tmpfs, 3.5 to 10 s on this disk), so `tmpfs: false` is opt-in.
//
// Everything a build touches is in one work dir under /var/tmp: the generated elements, DIB's own
// build dirs (TMP_DIR, TMPDIR), DIB_IMAGE_CACHE, DIB_LOCKFILES, HOME (stevedore's entry point
// cache) and the image. The environment is clean (this machine's PIP_* and DIB_* never reach the
// build: `sudo -E chroot` would carry them into the chroot); the caller's `env` goes on top.
//
// What DIB does on a failed build: `mk_build_dir` sets `trap trap_cleanup EXIT`, which unmounts
// everything below $TMP_BUILD_DIR/mnt (`umount -fl`, deepest first, except the block device
// layer's own mount points), calls `dib-block-device umount` (the loop-mounted image, `losetup
// -d`), removes the build and image dirs (unmounting its tmpfs) and exits with the failed command's
// status. It does *not* survive a signal to the whole process group (Ctrl-C, or a killed test):
// outfilter.py dies with it, the trap's first `echo` hits a dead pipe and the chroot's /proc, /dev,
// /dev/pts, /sys and bind mounts stay. So on a timeout, and on dispose, this helper unmounts what
// is left in its own work dir before removing it, and refuses to remove anything still mounted.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, createReadStream, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { cachedBookwormRoot, debootstrapProblem, mountsAtOrUnder } from './debootstrap-root.js';

/** The generated stand-in for `debian-minimal` (always in the build). */
export const BASE_ELEMENT = 'dib-pypi-test-base';
/** Where build work dirs go: a disk, not a tmpfs /tmp (the image written there is about 200 MB). */
export const BUILDS_DIR = '/var/tmp';
const WORK_PREFIX = 'dib-pypi-dib-';
/** How the base element's root.d finds the cached bookworm tarball. */
export const BASE_TAR_VARIABLE = 'DIB_PYPI_TEST_BASE_TAR';
/** How the base element's root.d finds the files to plant. */
export const PLANT_DIR_VARIABLE = 'DIB_PYPI_TEST_PLANT_DIR';

const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const DEFAULT_TIMEOUT_MS = 10 * 60_000;

function progress(line: string): void {
  process.stderr.write(`[dib] ${line}\n`);
}

function findCommand(name: string): string | undefined {
  return SYSTEM_PATH.split(':')
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
}

function runsOk(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', env: { PATH: SYSTEM_PATH } }).status === 0;
}

// ---------------------------------------------------------------------------------------------
// Can DIB run here?

/** DIB's own elements directory (where upstream's `pypi` element is), or undefined without DIB. */
export function upstreamElementsDir(): string | undefined {
  const python = spawnSync('/usr/bin/python3', ['-c', 'import diskimage_builder.paths as p; print(p.get_path("elements"))'], {
    encoding: 'utf8',
    env: { PATH: SYSTEM_PATH },
  });
  const dir = python.status === 0 ? python.stdout.trim() : '';
  return dir !== '' && existsSync(dir) ? dir : undefined;
}

/** Upstream's `pypi` element directory (Debian: /usr/lib/python3/dist-packages/diskimage_builder/elements/pypi). */
export function upstreamPypiElement(): string | undefined {
  const dir = upstreamElementsDir();
  return dir !== undefined && existsSync(join(dir, 'pypi')) ? join(dir, 'pypi') : undefined;
}

function probeMount(): boolean {
  const dir = mkdtempSync(join(BUILDS_DIR, `${WORK_PREFIX}probe-`));
  try {
    // In a private mount namespace: the tmpfs is gone when unshare exits.
    return runsOk('unshare', ['--mount', '--propagation', 'private', '--', 'mount', '-t', 'tmpfs', 'dib-pypi-probe', dir]);
  } finally {
    spawnSync('rmdir', [dir]);
  }
}

let problem: { value: string | undefined } | undefined;

/** Why `disk-image-create` cannot build an image here, or undefined when it can (checked once). */
export function dibProblem(): string | undefined {
  if (problem === undefined) problem = { value: findDibProblem() };
  return problem.value;
}

function findDibProblem(): string | undefined {
  if (process.getuid?.() !== 0) return 'disk-image-create needs root here (sudo, chroot, mounts, loop devices)';
  if (findCommand('disk-image-create') === undefined || upstreamElementsDir() === undefined) {
    return "disk-image-create is missing: install Debian's python3-diskimage-builder (apt-get install -y python3-diskimage-builder)";
  }
  if (findCommand('sudo') === undefined) return "sudo is missing (disk-image-create calls it): install Debian's sudo";
  if (!runsOk('sudo', ['-n', 'true'])) return 'sudo -n true fails: disk-image-create needs sudo without a password';
  for (const [tool, pkg] of [
    ['fstrim', 'util-linux'],
    ['losetup', 'util-linux'],
    ['unshare', 'util-linux'],
    ['mkfs.ext4', 'e2fsprogs'],
    ['tar', 'tar'],
  ] as const) {
    if (findCommand(tool) === undefined) return `${tool} is missing: install Debian's ${pkg}`;
  }
  // -t tar still goes through DIB's block device layer: a loop-mounted ext4 image the root is copied into.
  if (!existsSync('/dev/loop-control') || !runsOk('losetup', ['-f']))
    return 'no free loop device (/dev/loop-control, losetup -f): DIB copies the root into a loop-mounted ext4 image even for -t tar';
  if (!probeMount()) return 'cannot mount (mount -t tmpfs in a private namespace failed): DIB mounts /proc, /dev, /sys and the hooks into the chroot';
  const rootProblem = debootstrapProblem();
  if (rootProblem !== undefined) return `no cached bookworm root: ${rootProblem}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Elements written by code.

export type ElementFile = string | { content: string | Buffer; mode: number };

/**
 * Write the element `name` into `elementsDir`: `files` by path inside the element (e.g.
 * `install.d/50-marker`, `element-deps`). Plain strings get mode 0755 inside a `*.d/` phase
 * directory (run-parts runs only executables) and 0644 elsewhere. Returns the element's path.
 */
export function writeElement(elementsDir: string, name: string, files: Record<string, ElementFile>): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) throw new Error(`bad element name ${JSON.stringify(name)}`);
  const element = join(elementsDir, name);
  mkdirSync(element, { recursive: true, mode: 0o755 });
  for (const [path, file] of Object.entries(files)) {
    const parts = path.split('/');
    if (path.startsWith('/') || parts.some((p) => p === '' || p === '.' || p === '..')) throw new Error(`bad path in element ${name}: ${path}`);
    const target = join(element, path);
    mkdirSync(posix.dirname(target), { recursive: true, mode: 0o755 });
    const { content, mode } = typeof file === 'string' ? { content: file, mode: /^[^/]+\.d\/[^/]+$/.test(path) ? 0o755 : 0o644 } : file;
    writeFileSync(target, content);
    chmodSync(target, mode); // not writeFileSync's mode: the umask masks it, and it is ignored for an existing file
  }
  return element;
}

/** A shell word that means exactly `text`. */
function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

const BASE_ENVIRONMENT = `# Generated by test/helpers/dib.ts: what debian-minimal's environment.d would say about this root.
export DISTRO_NAME=debian
export DIB_RELEASE=\${DIB_RELEASE:-bookworm}
export DIB_INIT_SYSTEM=\${DIB_INIT_SYSTEM:-systemd}
# dib-python (if an element pulls it in) would pick python2 for debian without this.
export DIB_PYTHON_VERSION=\${DIB_PYTHON_VERSION:-3}
`;

const UNPACK_SCRIPT = `#!/bin/bash
# Generated by test/helpers/dib.ts: the cached debootstrap root instead of running debootstrap.
if [ "\${DIB_DEBUG_TRACE:-0}" -gt 0 ]; then
    set -x
fi
set -eu
set -o pipefail
: "\${TARGET_ROOT:?root.d runs with TARGET_ROOT (= TMP_MOUNT_PATH)}"
: "\${${BASE_TAR_VARIABLE}:?the cached bookworm tarball}"
tar --numeric-owner -xpf "$${BASE_TAR_VARIABLE}" -C "$TARGET_ROOT"
`;

function plantScript(entries: Array<[string, number]>): string {
  const lines = [
    '#!/bin/bash',
    '# Generated by test/helpers/dib.ts: files a test puts into the root right after it is unpacked.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell text
    'if [ "${DIB_DEBUG_TRACE:-0}" -gt 0 ]; then',
    '    set -x',
    'fi',
    'set -eu',
    'set -o pipefail',
    `: "\${${PLANT_DIR_VARIABLE}:?the files to plant}"`,
    'root=$(realpath -e -- "$TARGET_ROOT")',
    'plant() { # plant SOURCE-NUMBER PATH-IN-ROOT MODE',
    '    local dir',
    '    dir=$(realpath -m -- "$root$(dirname -- "$2")")',
    '    case "$dir/" in',
    '        "$root"/*) ;;',
    '        *) echo "refusing to plant $2: its directory resolves to $dir, outside the root" >&2; exit 1 ;;',
    '    esac',
    '    mkdir -p -- "$dir"',
    '    rm -f -- "$dir/$(basename -- "$2")"',
    `    cp -- "$${PLANT_DIR_VARIABLE}/$1" "$dir/$(basename -- "$2")"`,
    '    chown 0:0 -- "$dir/$(basename -- "$2")"',
    '    chmod "$3" -- "$dir/$(basename -- "$2")"',
    '    echo "planted $2 (mode $3)"',
    '}',
    ...entries.map(([path, mode], i) => `plant ${i} ${shellQuote(path)} ${mode.toString(8).padStart(4, '0')}`),
  ];
  return lines.join('\n') + '\n';
}

function checkPlantPath(path: string): void {
  const parts = path.split('/').slice(1);
  if (!path.startsWith('/') || parts.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..') || /[\n\0]/.test(path)) {
    throw new Error(`plant: ${JSON.stringify(path)} is not a normalised absolute file path in the image`);
  }
}

// ---------------------------------------------------------------------------------------------
// The build.

export interface BuildOptions {
  /** Elements after the base element, e.g. ['pypi', 'my-test-element']. */
  elements: string[];
  /** Element directories searched after the generated one (earlier wins; DIB's own elements come last). */
  extraElementsPaths: string[];
  /** On top of the clean environment below (wins over it, ELEMENTS_PATH included). */
  env: Record<string, string>;
  /** Files put into the root by root.d right after the base is unpacked (owner 0:0; missing parents made 0755). */
  plant?: Record<string, { content: string | Buffer; mode: number }>;
  /** More disk-image-create flags, e.g. ['--offline'] or ['-x']. */
  args?: string[];
  /** Build in DIB's own tmpfs (default; about twice as fast) or, when false, on disk (`--no-tmpfs`). */
  tmpfs?: boolean;
  /** Default 10 min; then the build's process group is killed and its mounts are undone by this helper. */
  timeoutMs?: number;
  /** Echo DIB's output as it comes (default: only when DIB_PYPI_TEST_VERBOSE=1). */
  echo?: boolean;
}

export interface BuiltImage extends AsyncDisposable {
  /** The image (`-t tar`); it does not exist when the build failed. */
  tar: string;
  /** Everything disk-image-create printed (stdout and stderr, as outfilter.py timestamps it). */
  log: string;
  /** disk-image-create's exit code; 128 + signal number when it was killed. */
  exitCode: number;
  /** The build's work dir (removed on dispose). */
  workDir: string;
  /** DIB_IMAGE_CACHE of the build (env may override it; the default is inside the work dir). */
  imageCache: string;
  /** Seconds disk-image-create ran. */
  seconds: number;
  /** Mounts left below the work dir when disk-image-create exited (DIB's EXIT trap should leave none). */
  mountsLeft: string[];
  /** Loop devices left backed by files in the work dir when disk-image-create exited. */
  loopsLeft: string[];
  timedOut: boolean;
}

/** Loop devices whose backing file is below `dir`. */
export function loopDevicesUnder(dir: string): string[] {
  const list = spawnSync('losetup', ['--list', '--noheadings', '--raw', '--output', 'NAME,BACK-FILE'], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
  if (list.status !== 0) return [];
  const prefix = `${dir}/`;
  return list.stdout
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([name, file]) => name !== undefined && name !== '' && file?.replace(/\\x20/g, ' ').startsWith(prefix))
    .map(([name]) => name as string);
}

/** Undo what a killed build left in `dir`: unmount (lazily, deepest first), detach its loop devices. */
function undoLeftovers(dir: string): void {
  for (const mount of [...mountsAtOrUnder(dir)].reverse()) {
    const result = spawnSync('umount', ['-l', mount], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
    progress(`left mounted: ${mount}: ${result.status === 0 ? 'unmounted (umount -l)' : `umount -l failed: ${result.stderr.trim()}`}`);
  }
  for (const loop of loopDevicesUnder(dir)) {
    const result = spawnSync('losetup', ['-d', loop], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
    progress(`left attached: ${loop}: ${result.status === 0 ? 'detached' : `losetup -d failed: ${result.stderr.trim()}`}`);
  }
}

function removeWorkDir(dir: string): void {
  if (!dir.startsWith(`${BUILDS_DIR}/${WORK_PREFIX}`) || dir.includes('/../')) throw new Error(`refusing to remove ${dir}: not a work dir of this helper`);
  if (!existsSync(dir)) return;
  undoLeftovers(dir);
  const still = mountsAtOrUnder(dir);
  if (still.length > 0) throw new Error(`refusing to remove ${dir}: still mounted inside it: ${still.join(', ')}`);
  const rm = spawnSync('rm', ['-rf', '--one-file-system', '--', dir], { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
  if (rm.status !== 0 || existsSync(dir)) throw new Error(`rm -rf ${dir} failed: ${rm.stderr.trim() || `exit ${rm.status}`}`);
}

/**
 * Run the real `disk-image-create -n -t tar [--no-tmpfs] -o WORK/out/image dib-pypi-test-base
 * ...elements`. Never throws for a failed build (see `exitCode` and `log`); throws when it cannot
 * start one. Dispose removes the work dir (after undoing mounts a killed build left there).
 */
export async function buildImage(options: BuildOptions): Promise<BuiltImage> {
  const problem = dibProblem();
  if (problem !== undefined) throw new Error(`cannot run disk-image-create: ${problem}`);
  const baseTar = await cachedBookwormRoot();
  const workDir = mkdtempSync(join(BUILDS_DIR, WORK_PREFIX));
  let removed = false;
  const dispose = async () => {
    if (removed) return;
    removeWorkDir(workDir);
    removed = true;
  };
  try {
    const dirs = Object.fromEntries(['elements', 'plant', 'tmp', 'cache', 'locks', 'home', 'out'].map((d) => [d, join(workDir, d)]));
    for (const dir of Object.values(dirs)) mkdirSync(dir as string, { mode: 0o755 });
    const d = dirs as Record<'elements' | 'plant' | 'tmp' | 'cache' | 'locks' | 'home' | 'out', string>;

    const plant = Object.entries(options.plant ?? {});
    for (const [path, { mode }] of plant) {
      checkPlantPath(path);
      if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`plant: ${path}: mode ${mode} is not in 0..07777`);
    }
    plant.forEach(([, { content }], i) => {
      writeFileSync(join(d.plant, String(i)), content, { mode: 0o600 });
    });
    writeElement(d.elements, BASE_ELEMENT, {
      'element-provides': 'operating-system\n',
      [`environment.d/10-${BASE_ELEMENT}.bash`]: { content: BASE_ENVIRONMENT, mode: 0o644 },
      [`root.d/10-${BASE_ELEMENT}-unpack`]: UNPACK_SCRIPT,
      ...(plant.length > 0 ? { [`root.d/11-${BASE_ELEMENT}-plant`]: plantScript(plant.map(([path, { mode }]) => [path, mode])) } : {}),
    });

    const env: Record<string, string> = {
      // The system's tools first; then this node's directory, for host-side hooks that run node (our element).
      PATH: [...new Set([...SYSTEM_PATH.split(':'), dirname(process.execPath)])].join(':'),
      HOME: d.home,
      USER: 'root', // DIB: sudo chown $USER: IMAGE
      LOGNAME: 'root',
      TMP_DIR: d.tmp, // DIB's dib_build.* and dib_image.* dirs
      TMPDIR: d.tmp, // mktemp in dib-run-parts and eval_run_d (unset inside the chroot by DIB)
      DIB_IMAGE_CACHE: d.cache,
      DIB_LOCKFILES: d.locks,
      ELEMENTS_PATH: [d.elements, ...options.extraElementsPaths].join(':'),
      [BASE_TAR_VARIABLE]: baseTar,
      [PLANT_DIR_VARIABLE]: d.plant,
      ...options.env,
    };
    const imageName = join(d.out, 'image');
    const elements = [BASE_ELEMENT, ...options.elements.filter((e) => e !== BASE_ELEMENT)];
    const args = ['-n', '-t', 'tar', ...(options.tmpfs === false ? ['--no-tmpfs'] : []), '-o', imageName, ...(options.args ?? []), ...elements];
    writeFileSync(join(workDir, 'command'), `disk-image-create ${args.map(shellQuote).join(' ')}\n`);

    const echo = options.echo ?? process.env.DIB_PYPI_TEST_VERBOSE === '1';
    const started = Date.now();
    const { log, exitCode, timedOut } = await new Promise<{ log: string; exitCode: number; timedOut: boolean }>((resolve, reject) => {
      // Its own process group, so a timeout reaches sudo, chroot and the hooks too.
      const child = spawn('disk-image-create', args, { cwd: workDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const chunks: Buffer[] = [];
      const take = (chunk: Buffer) => {
        chunks.push(chunk);
        if (echo) process.stderr.write(chunk);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        progress(`disk-image-create still running after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms: killing its process group`);
        try {
          process.kill(-(child.pid as number), 'SIGKILL');
        } catch {
          // gone already
        }
      }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        const exitCode = code ?? 128 + (signal !== null ? (constants.signals[signal] ?? 0) : 0);
        resolve({ log: Buffer.concat(chunks).toString('utf8'), exitCode, timedOut });
      });
    });
    const seconds = (Date.now() - started) / 1000;
    const mountsLeft = mountsAtOrUnder(workDir);
    const loopsLeft = loopDevicesUnder(workDir);
    if (timedOut) undoLeftovers(workDir);
    writeFileSync(join(workDir, 'build.log'), log);
    return {
      tar: `${imageName}.tar`,
      log,
      exitCode,
      workDir,
      imageCache: env.DIB_IMAGE_CACHE ?? d.cache,
      seconds,
      mountsLeft,
      loopsLeft,
      timedOut,
      [Symbol.asyncDispose]: dispose,
    };
  } catch (error) {
    await dispose();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// Looking into the image.

export interface TarEntry {
  /**
   * file, dir, symlink, char, block, fifo (or the raw type flag for anything else). A hard link is
   * a `file` too, with the content facts of the file it links to and `hardlinkTo` set: which of
   * two linked names tar stores as the link depends on directory order, which differs by build.
   */
  type: string;
  /** Permission bits and setuid/setgid/sticky (07777). */
  mode: number;
  size: number;
  /** Of the content, for regular files (hard links included). */
  sha256?: string;
  /** Numeric owners, as stored. */
  uid: number;
  gid: number;
  mtime: number;
  /** Symlink target, as stored. */
  linkname?: string;
  /** For a hard link: the image path of the file tar stored it as a link to. */
  hardlinkTo?: string;
  /** Extended attributes (pax SCHILY.xattr.*: DIB tars with --xattrs). */
  xattrs?: Record<string, string>;
}

// '1' (hard link) is reported as a file: see TarEntry.type.
const TYPES: Record<string, string> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'dir',
  '6': 'fifo',
};

/** `./etc/fstab`, `etc/fstab/`, `/etc/fstab` -> `/etc/fstab`; `./` -> `/`. */
export function imagePath(name: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  return `/${parts.join('/')}`;
}

function cString(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return (nul === -1 ? field : field.subarray(0, nul)).toString('utf8');
}

function tarNumber(block: Buffer, start: number, length: number): number {
  const field = block.subarray(start, start + length);
  if (((field[0] ?? 0) & 0x80) !== 0) {
    // GNU base-256: big-endian, the top bit of the first byte is the marker.
    let value = (field[0] ?? 0) & 0x7f;
    for (const byte of field.subarray(1)) value = value * 256 + byte;
    return value;
  }
  const text =
    field
      .toString('latin1')
      .replace(/[\0 ]+$/, '')
      .replace(/^[ ]+/, '')
      .split('\0')[0] ?? '';
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : (block[i] ?? 0);
  return sum === tarNumber(block, 148, 8);
}

/** pax extended header records: `<length> <key>=<value>\n`. */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space === -1) break;
    const length = parseInt(data.subarray(at, space).toString('latin1'), 10);
    if (!Number.isFinite(length) || length <= 0) throw new Error('listTar: bad pax record');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

/**
 * Every member of a tar (ustar, GNU or pax, as GNU tar writes them), by image path (`/etc/fstab`;
 * the top directory is `/`), streamed: sha256 of each regular file, numeric owners, xattrs.
 */
export async function listTar(tar: string): Promise<Map<string, TarEntry>> {
  const entries = new Map<string, TarEntry>();
  let pending: Buffer = Buffer.alloc(0);
  // The member being read: its header facts and how many data bytes (and padding) are still to come.
  let current: { header: Buffer; size: number; left: number; pad: number; hash?: ReturnType<typeof createHash>; meta?: Buffer[] } | undefined;
  let longName: string | undefined;
  let longLink: string | undefined;
  let pax = new Map<string, string>();
  const globalPax = new Map<string, string>();
  let ended = false;

  const finishMember = (header: Buffer, size: number, sha256: string | undefined, meta: Buffer | undefined) => {
    const flag = String.fromCharCode(header[156] ?? 0);
    if (flag === 'x' || flag === 'g') {
      const records = parsePax(meta ?? Buffer.alloc(0));
      if (flag === 'g') for (const [k, v] of records) globalPax.set(k, v);
      else pax = records;
      return;
    }
    if (flag === 'L' || flag === 'K') {
      const text = (meta ?? Buffer.alloc(0)).toString('utf8').replace(/\0+$/, '');
      if (flag === 'L') longName = text;
      else longLink = text;
      return;
    }
    const all = new Map([...globalPax, ...pax]);
    const prefix = cString(header, 345, 155);
    const name =
      all.get('path') ??
      longName ??
      (prefix !== '' && header.subarray(257, 262).toString('latin1') === 'ustar' ? `${prefix}/${cString(header, 0, 100)}` : cString(header, 0, 100));
    const link = all.get('linkpath') ?? longLink ?? cString(header, 157, 100);
    const xattrs: Record<string, string> = {};
    for (const [k, v] of all) if (k.startsWith('SCHILY.xattr.')) xattrs[k.slice('SCHILY.xattr.'.length)] = v;
    const type = TYPES[flag] ?? flag;
    const target = type === 'hardlink' ? entries.get(imagePath(link)) : undefined;
    if (type === 'hardlink' && target === undefined) throw new Error(`listTar: ${tar}: ${name} is a hard link to ${link}, which comes nowhere before it`);
    const entry: TarEntry = {
      type: type === 'hardlink' ? 'file' : type,
      mode: tarNumber(header, 100, 8) & 0o7777,
      size: type === 'file' ? size : (target?.size ?? 0),
      uid: all.has('uid') ? Number(all.get('uid')) : tarNumber(header, 108, 8),
      gid: all.has('gid') ? Number(all.get('gid')) : tarNumber(header, 116, 8),
      mtime: all.has('mtime') ? Number(all.get('mtime')) : tarNumber(header, 136, 12),
      ...(type === 'file' && sha256 !== undefined ? { sha256 } : target?.sha256 !== undefined ? { sha256: target.sha256 } : {}),
      ...(type === 'symlink' ? { linkname: link } : type === 'hardlink' ? { hardlinkTo: imagePath(link) } : {}),
      ...(Object.keys(xattrs).length > 0 ? { xattrs } : {}),
    };
    entries.set(imagePath(name), entry);
    longName = undefined;
    longLink = undefined;
    pax = new Map();
  };

  for await (const chunk of createReadStream(tar, { highWaterMark: 1 << 20 })) {
    pending = pending.length === 0 ? (chunk as Buffer) : Buffer.concat([pending, chunk as Buffer]);
    let at = 0;
    while (!ended) {
      if (current === undefined) {
        if (pending.length - at < 512) break;
        const header = pending.subarray(at, at + 512);
        at += 512;
        if (header.every((b) => b === 0)) {
          ended = true;
          break;
        }
        if (!checksumOk(header)) throw new Error(`listTar: ${tar}: bad header checksum at a member after ${entries.size} entries`);
        const flag = String.fromCharCode(header[156] ?? 0);
        const sizeField = tarNumber(header, 124, 12);
        const size = pax.has('size') ? Number(pax.get('size')) : sizeField;
        // Links, directories and devices carry no data whatever the size field says (GNU writes 0 anyway).
        const dataSize = ['1', '2', '3', '4', '5', '6'].includes(flag) ? 0 : size;
        const isMeta = ['x', 'g', 'L', 'K'].includes(flag);
        const isFile = (TYPES[flag] ?? '') === 'file';
        current = {
          header: Buffer.from(header),
          size: dataSize,
          left: dataSize,
          pad: (512 - (dataSize % 512)) % 512,
          ...(isFile ? { hash: createHash('sha256') } : {}),
          ...(isMeta ? { meta: [] } : {}),
        };
      }
      if (current.left > 0) {
        const take = Math.min(current.left, pending.length - at);
        if (take === 0) break;
        const piece = pending.subarray(at, at + take);
        current.hash?.update(piece);
        current.meta?.push(Buffer.from(piece));
        current.left -= take;
        at += take;
        if (current.left > 0) break;
      }
      if (current.pad > 0) {
        const skip = Math.min(current.pad, pending.length - at);
        current.pad -= skip;
        at += skip;
        if (current.pad > 0) break;
      }
      finishMember(current.header, current.size, current.hash?.digest('hex'), current.meta !== undefined ? Buffer.concat(current.meta) : undefined);
      current = undefined;
    }
    pending = pending.subarray(at);
    if (ended) break;
  }
  if (!ended && (current !== undefined || pending.length > 0)) throw new Error(`listTar: ${tar} is cut short`);
  if (!ended && entries.size === 0) throw new Error(`listTar: ${tar} holds no members`);
  return entries;
}

/**
 * Paths whose entries differ between two builds of the same elements whatever the elements do:
 * DIB 3.13 tars the root while the host's /dev is still bind-mounted on it (`mount_proc_dev_sys`
 * before finalise, `unmount_image` only after the tar; only ./proc and ./sys are excluded, so the
 * image has no /proc or /sys entry but the host's device nodes), mkfs's /lost+found, and
 * /etc/fstab with a new filesystem UUID each build. finalise_base also truncates /var/log files
 * and deletes every *.log file under /root. Compare listings without these (and without mtimes).
 */
export function isBuildNoise(path: string): boolean {
  return path === '/dev' || path.startsWith('/dev/') || path === '/lost+found' || path.startsWith('/lost+found/') || path === '/etc/fstab';
}

/** What should be equal in two builds of the same elements: entries without build noise, mtimes or which hard-linked name tar stored as the link. */
export function stableListing(listing: Map<string, TarEntry>): Map<string, Omit<TarEntry, 'mtime' | 'hardlinkTo'>> {
  const stable = new Map<string, Omit<TarEntry, 'mtime' | 'hardlinkTo'>>();
  for (const [path, { mtime: _mtime, hardlinkTo: _hardlinkTo, ...rest }] of [...listing].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!isBuildNoise(path)) stable.set(path, rest);
  }
  return stable;
}

/** sha256 hex of a string or bytes, to compare with `TarEntry.sha256`. */
export function sha256Of(content: string | Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}
