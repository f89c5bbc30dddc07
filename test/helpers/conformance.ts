// Side-by-side conformance of upstream's `pypi` element (Debian's DIB 3.13) and ours (elements/pypi):
// one scenario per DESIGN.md claim about upstream and per contract both must keep, run the same way
// for both elements, giving a table scenario x element -> PASS/FAIL.
//
// Most scenarios run as the closest honest equivalent of a build, which takes a second or two
// instead of a full image: a fresh bookworm root (makeBookwormRoot), the element's phases in DIB's
// order with DIB's variables, run with DIB's own dib-run-parts as disk-image-create runs them:
// host phases (extra-data.d, post-root.d) directly on the host; in-chroot phases (pre-install.d,
// install.d, post-install.d) exactly as lib/img-functions' run_d_in_target does: the merged hooks
// bind-mounted read-only at /tmp/in_target.d, then `chroot ROOT env -u TMPDIR -u VIRTUAL_ENV
// PATH=... sh -c "/tmp/in_target.d/dib-run-parts /tmp/in_target.d/PHASE.d"` with HOME=/root; /proc,
// /dev and /sys mounted as create_base's mount_proc_dev_sys does. A failing phase stops the run, as
// it stops disk-image-create. Then the raw root is inspected, before anything DIB does later
// (unmount_image, finalise_base's clean-up of /tmp and of *.log under /root). A few scenarios, where
// the whole build matters (what reaches the image; a build failing midway), run the real
// disk-image-create (test/helpers/dib.ts).
//
// Used by test/integration/conformance.test.ts and by scripts/conformance.mjs (`npm run conformance`).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { BIN } from './cli.js';
import { makeBookwormRoot, mountsAtOrUnder } from './debootstrap-root.js';
import { buildImage, listTar, sha256Of, upstreamElementsDir, upstreamPypiElement, writeElement, type TarEntry } from './dib.js';
import { makeElementMirror } from './element-mirror.js';

const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const WORK_PREFIX = 'dib-pypi-conformance-';
const WORK_DIR_PARENT = '/var/tmp';
const PHASE_TIMEOUT_MS = 120_000;
/** This project's elements directory. */
export const OUR_ELEMENTS = new URL('../../../elements', import.meta.url).pathname.replace(/\/$/, '');
const STATE_ROOT = '/var/lib/dib-pypi';

// ---------------------------------------------------------------------------------------------
// The two elements.

export type ElementId = 'upstream' | 'ours';
export const ELEMENT_IDS: ElementId[] = ['upstream', 'ours'];

interface ElementUnderTest {
  id: ElementId;
  /** The `pypi` element directory. */
  dir: string;
  /** ELEMENTS_PATH entries a real build needs to find it (DIB appends its own elements itself). */
  elementsPaths: string[];
  /** The phase that writes the pip configuration (run twice by the "configure twice" scenario). */
  configurePhase: 'pre-install' | 'extra-data';
}

function elementsUnderTest(): Record<ElementId, ElementUnderTest> {
  const upstream = upstreamPypiElement();
  if (upstream === undefined) throw new Error("upstream's pypi element is missing: install Debian's python3-diskimage-builder");
  return {
    upstream: { id: 'upstream', dir: upstream, elementsPaths: [], configurePhase: 'pre-install' },
    ours: { id: 'ours', dir: join(OUR_ELEMENTS, 'pypi'), elementsPaths: [OUR_ELEMENTS], configurePhase: 'extra-data' },
  };
}

/** DIB's lib directory (dib-run-parts, img-functions). */
function dibLib(): string {
  const elements = upstreamElementsDir();
  if (elements === undefined) throw new Error("diskimage-builder is missing: install Debian's python3-diskimage-builder");
  return join(dirname(elements), 'lib');
}

// ---------------------------------------------------------------------------------------------
// Running an element's phases on a root, as disk-image-create does.

const HOST_PHASES = new Set(['root', 'extra-data', 'post-root', 'block-device', 'pre-finalise', 'cleanup']);
/** DIB's order (disk-image-create), up to the end of the element's work. */
export const DIB_ORDER = ['extra-data', 'pre-install', 'install', 'post-install', 'post-root'];

export interface PhaseRun {
  phase: string;
  status: number;
  output: string;
}

export interface EmulatedBuild {
  phases: PhaseRun[];
  /** The phase that failed (the run stopped there, as disk-image-create would), if any. */
  failed?: PhaseRun;
  output: string;
  /** In-root mount points left after the last phase, other than /proc, /dev, /dev/pts, /sys (DIB's own). */
  mountsLeft: string[];
}

function run(command: string, args: string[], env: Record<string, string>): { status: number; output: string } {
  const result = spawnSync(command, args, { env, encoding: 'utf8', timeout: PHASE_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });
  if (result.error !== undefined) return { status: 127, output: `${command}: ${result.error.message}` };
  return { status: result.status ?? 128, output: `${result.stdout}${result.stderr}` };
}

function must(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { PATH: SYSTEM_PATH } });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed: ${result.stderr.trim()}`);
}

/** generate_hooks: every phase directory of every element copied into one hooks dir (cp -a). */
function generateHooks(hooks: string, elementDirs: string[]): void {
  mkdirSync(hooks, { recursive: true });
  for (const element of elementDirs) {
    for (const entry of readdirSync(element, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name === 'tests' || entry.name === '__pycache__') continue;
      mkdirSync(join(hooks, entry.name), { recursive: true });
      for (const hook of readdirSync(join(element, entry.name))) {
        if (existsSync(join(hooks, entry.name, hook))) throw new Error(`duplicated hook ${entry.name}/${hook}`);
        must('cp', ['-t', join(hooks, entry.name), '-a', join(element, entry.name, hook)]);
      }
    }
  }
}

/** Unmount everything at or below `dir`, deepest first (what DIB's unmount_image / EXIT trap do). */
function unmountAll(dir: string): void {
  for (const mount of [...mountsAtOrUnder(dir)].reverse()) {
    if (spawnSync('umount', ['-f', mount], { env: { PATH: SYSTEM_PATH } }).status !== 0) must('umount', ['-l', mount]);
  }
}

/**
 * Run `sequence` (phase names; a phase may repeat) of the elements in `elementDirs` on `root`, as
 * disk-image-create would, in `workDir` (TMP_BUILD_DIR). Stops at the first failing phase.
 */
export function emulateBuild(options: {
  root: string;
  workDir: string;
  elementDirs: string[];
  env: Record<string, string>;
  sequence: string[];
}): EmulatedBuild {
  const { root, workDir } = options;
  const hooks = join(workDir, 'hooks');
  generateHooks(hooks, options.elementDirs);
  const runParts = join(dibLib(), 'dib-run-parts');
  must('cp', [runParts, hooks]); // run_d_in_target: `sudo cp ${DIB_RUN_PARTS} ${TMP_HOOKS_PATH}`
  for (const dir of ['tmp', 'home']) mkdirSync(join(workDir, dir), { recursive: true });
  const env: Record<string, string> = {
    PATH: [...new Set([...SYSTEM_PATH.split(':'), dirname(process.execPath)])].join(':'),
    HOME: join(workDir, 'home'),
    USER: 'root',
    LOGNAME: 'root',
    TMPDIR: join(workDir, 'tmp'),
    TMP_BUILD_DIR: workDir,
    TMP_HOOKS_PATH: hooks,
    TMP_MOUNT_PATH: root,
    ...options.env,
  };
  // create_base's mount_proc_dev_sys.
  const pts = spawnSync('findmnt', ['--first-only', '/dev/pts', '--noheadings', '--output', 'OPTIONS'], { encoding: 'utf8' }).stdout.trim();
  must('mount', ['-t', 'proc', 'none', join(root, 'proc')]);
  must('mount', ['--bind', '/dev', join(root, 'dev')]);
  must('mount', ['-t', 'devpts', ...(pts !== '' ? ['-o', pts] : []), 'devpts', join(root, 'dev/pts')]);
  must('mount', ['-o', 'ro', '-t', 'sysfs', 'none', join(root, 'sys')]);
  const phases: PhaseRun[] = [];
  let failed: PhaseRun | undefined;
  let mountsLeft: string[] = [];
  try {
    for (const phase of options.sequence) {
      if (!existsSync(join(hooks, `${phase}.d`))) continue;
      let result: { status: number; output: string };
      if (HOST_PHASES.has(phase)) {
        // run_d: ${DIB_RUN_PARTS} ${TMP_HOOKS_PATH}/$1.d
        result = run(runParts, [join(hooks, `${phase}.d`)], env);
      } else {
        // run_d_in_target
        const inTarget = join(root, 'tmp/in_target.d');
        mkdirSync(inTarget);
        must('mount', ['--bind', hooks, inTarget]);
        must('mount', ['-o', 'remount,ro,bind', hooks, inTarget]);
        try {
          // run_in_target: `sudo -E chroot $TMP_MOUNT_PATH env -u TMPDIR -u VIRTUAL_ENV PATH="\$PATH:..." sh -c "$cmd"`
          // with HOME=/root; the escaped \$PATH reaches env as the literal text `$PATH`, as here.
          const path = '$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
          result = run(
            'chroot',
            [root, 'env', '-u', 'TMPDIR', '-u', 'VIRTUAL_ENV', `PATH=${path}`, 'sh', '-c', `/tmp/in_target.d/dib-run-parts /tmp/in_target.d/${phase}.d`],
            { ...env, HOME: '/root' },
          );
        } finally {
          must('umount', ['-f', inTarget]);
          rmdirSync(inTarget);
        }
      }
      const phaseRun = { phase, ...result };
      phases.push(phaseRun);
      if (result.status !== 0) {
        failed = phaseRun;
        break;
      }
    }
  } finally {
    const own = new Set(['/proc', '/dev', '/dev/pts', '/sys'].map((p) => join(root, p)));
    mountsLeft = mountsAtOrUnder(root)
      .filter((m) => m !== root && !own.has(m))
      .map((m) => `/${posix.relative(root, m)}`);
    unmountAll(root);
  }
  return {
    phases,
    ...(failed !== undefined ? { failed } : {}),
    output: phases.map((p) => `== ${p.phase} (exit ${p.status})\n${p.output}`).join('\n'),
    mountsLeft,
  };
}

// ---------------------------------------------------------------------------------------------
// The probe: a test element whose install.d reports what pip sees (POSIX sh; python only if present).

const PROBE_ELEMENT = 'dib-pypi-conformance-probe';
const CONFIG_MARK = 'DIB-PYPI-CONFORMANCE-CONFIG ';
const MIRROR_MARK = 'DIB-PYPI-CONFORMANCE-MIRROR ';
const INSTALL_MARK = 'DIB-PYPI-CONFORMANCE-INSTALLED';
/** pip config list prints `key='repr'` lines: turn them into one JSON object. */
const TO_JSON =
  'import ast, json, sys; print(json.dumps(dict((k, ast.literal_eval(v)) for k, v in (l.rstrip("\\n").split("=", 1) for l in sys.stdin if "=" in l)), sort_keys=True))';
/** Every pip config location in a root (pip 23: global, user legacy and XDG); the probe's rm takes them all. */
const PIP_CONF_PATHS = ['/etc/pip.conf', '/etc/xdg/pip/pip.conf', '/root/.pip/pip.conf', '/root/.config/pip/pip.conf'];

interface ProbeOptions {
  /** pip install APP_core (a wheel and its dependency) from the configured index. */
  install?: boolean;
  /** A later install.d removes every pip.conf (an element that cleans pip config up). */
  removePipConf?: boolean;
  /** A later install.d fails (exit 7). */
  failLater?: boolean;
}

function writeProbe(elementsDir: string, probe: ProbeOptions): string {
  const lines = [
    '#!/bin/sh',
    'set -eu',
    'if awk \'$2 == "/tmp/pypi" { found = 1 } END { exit !found }\' /proc/mounts; then',
    `    if touch /tmp/pypi/.dib-pypi-conformance-write 2>/dev/null; then echo "${MIRROR_MARK}writable"; rm -f /tmp/pypi/.dib-pypi-conformance-write; else echo "${MIRROR_MARK}read-only"; fi`,
    'else',
    `    echo "${MIRROR_MARK}not mounted"`,
    'fi',
    'if command -v python3 >/dev/null 2>&1; then',
    `    config=$(python3 -m pip config list | python3 -c '${TO_JSON}')`,
    // printf, not echo: dash's echo would turn the JSON's \\n escapes into newlines.
    `    printf '%s%s\\n' '${CONFIG_MARK}' "$config"`,
    ...(probe.install
      ? [
          '    python3 -m pip install --break-system-packages --no-cache-dir APP_core',
          `    python3 -c 'import app_core, zope_interface_thing' && echo "${INSTALL_MARK}"`,
        ]
      : []),
    'fi',
    '',
  ];
  const files: Record<string, string> = { 'install.d/50-dib-pypi-conformance-probe': lines.join('\n') };
  if (probe.removePipConf) files['install.d/60-dib-pypi-conformance-rm-pip-conf'] = `#!/bin/sh\nset -eu\nrm -f ${PIP_CONF_PATHS.join(' ')}\n`;
  if (probe.failLater)
    files['install.d/70-dib-pypi-conformance-fail'] = '#!/bin/sh\necho "dib-pypi-conformance: a later element fails on purpose" >&2\nexit 7\n';
  return writeElement(elementsDir, PROBE_ELEMENT, files);
}

/** pip's effective configuration as the probe saw it (`pip config list`), or undefined when it did not run. */
function probedConfig(output: string): Record<string, string> | undefined {
  const line = output.split('\n').find((l) => l.includes(CONFIG_MARK));
  return line === undefined ? undefined : (JSON.parse(line.slice(line.indexOf(CONFIG_MARK) + CONFIG_MARK.length)) as Record<string, string>);
}

function probedMirror(output: string): string | undefined {
  const line = output.split('\n').find((l) => l.includes(MIRROR_MARK));
  return line?.slice(line.indexOf(MIRROR_MARK) + MIRROR_MARK.length).trim();
}

// ---------------------------------------------------------------------------------------------
// What a root has where the element could leave traces.

type Footprint = Map<string, string>;
const FOOTPRINT_PATHS = [
  '/etc/pip.conf',
  '/etc/xdg/pip',
  '/etc/xdg/pip/pip.conf',
  '/root/.pip',
  '/root/.pip/pip.conf',
  '/root/.config/pip',
  '/root/.config/pip/pip.conf',
  '/root/.pydistutils.cfg',
  '/root/pip.log',
  '/tmp/pypi',
];

function describe(host: string): string {
  const stat = lstatSync(host, { throwIfNoEntry: false });
  if (stat === undefined) return 'absent';
  const mode = (stat.mode & 0o7777).toString(8).padStart(4, '0');
  if (stat.isFile()) return `file ${mode} ${stat.uid}:${stat.gid} sha256:${createHash('sha256').update(readFileSync(host)).digest('hex').slice(0, 16)}`;
  if (stat.isDirectory()) return `dir ${mode}`;
  return stat.isSymbolicLink() ? 'symlink' : 'other';
}

/** The footprint paths plus every *.orig under /etc, /root and /tmp. */
function footprint(root: string): Footprint {
  const found = new Map<string, string>();
  for (const path of FOOTPRINT_PATHS) found.set(path, describe(join(root, path)));
  for (const top of ['/etc', '/root', '/tmp']) {
    for (const rel of readdirSync(join(root, top), { recursive: true }).map(String)) {
      if (rel.endsWith('.orig')) found.set(posix.join(top, rel), describe(join(root, top, rel)));
    }
  }
  return found;
}

function changed(before: Footprint, after: Footprint): string[] {
  return [...new Set([...before.keys(), ...after.keys()])].filter((p) => (before.get(p) ?? 'absent') !== (after.get(p) ?? 'absent')).sort();
}

// ---------------------------------------------------------------------------------------------
// Scenarios.

export type Kind = 'defect' | 'upstream' | 'contract';
export type How = 'chroot' | 'image';

interface ChrootObservation {
  how: 'chroot';
  element: ElementUnderTest;
  build: EmulatedBuild;
  config: Record<string, string> | undefined;
  mirror: string | undefined;
  installed: boolean;
  before: Footprint;
  after: Footprint;
  /** The user's planted files, by path. */
  plant: Record<string, { content: string; mode: number }>;
  /** Text of the footprint's files after the build, by path. */
  files: Map<string, string>;
}

interface ImageObservation {
  how: 'image';
  element: ElementUnderTest;
  exitCode: number;
  log: string;
  listing: Map<string, TarEntry> | undefined;
  mountsLeft: string[];
  loopsLeft: string[];
  buildDirsLeft: string[];
  stateRootChanged: boolean;
  plant: Record<string, { content: string; mode: number }>;
}

type Observation = ChrootObservation | ImageObservation;
/** A row's verdict on one element: pass or not, and what was seen (deterministic text: no temp paths, ports or times). */
export interface Verdict {
  pass: boolean;
  detail: string;
}

export interface Row {
  id: string;
  title: string;
  kind: Kind;
  /** The DESIGN.md statement this row checks (for defect and upstream rows). */
  claim?: string;
  /** Where the raw-root result and the image differ, or what else a reader should know (in the report). */
  note?: string;
  /** What DESIGN.md (defect: upstream fails, ours passes; contract: both pass) or the claim predicts. */
  expected: Record<ElementId, boolean>;
  check(observation: Observation): Verdict;
}

interface ChrootSetup {
  how: 'chroot';
  env?: Record<string, string>;
  /** Files in the root before the build (the user's). */
  plant?: Record<string, { content: string; mode: number }>;
  /** Default: the mirror exists at $DIB_IMAGE_CACHE/pypi/mirror. */
  mirror?: boolean;
  removePython?: boolean;
  /** Run the element's configure phase twice. */
  configureTwice?: boolean;
  probe: ProbeOptions;
}

interface ImageSetup {
  how: 'image';
  plant?: Record<string, { content: string; mode: number }>;
  probe: ProbeOptions;
}

export interface Scenario {
  id: string;
  title: string;
  setup: ChrootSetup | ImageSetup;
  rows: Row[];
}

const OFFLINE = { DIB_OFFLINE: '1' };
const USER_PIP_CONF = "# the user's own pip.conf\n[global]\ntimeout = 61\n";
const USER_DISTUTILS = "# the user's own distutils config\n[easy_install]\nindex_url = https://example.invalid/simple\n";
const USER_FILES = {
  '/root/.pip/pip.conf': { content: USER_PIP_CONF, mode: 0o600 },
  '/root/.pydistutils.cfg': { content: USER_DISTUTILS, mode: 0o640 },
};

const both = { upstream: true, ours: true };
const oursOnly = { upstream: false, ours: true };

function chroot(o: Observation): ChrootObservation {
  if (o.how !== 'chroot') throw new Error('a chroot row got an image observation');
  return o;
}

function image(o: Observation): ImageObservation {
  if (o.how !== 'image') throw new Error('an image row got a chroot observation');
  return o;
}

/** Every phase ran to the end. */
function phasesOk(o: ChrootObservation): Verdict | undefined {
  const failed = o.build.failed;
  if (failed === undefined) return undefined;
  const why = failed.output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /error|fail|no such|not found|cannot|bad interpreter/i.test(l) && !/^\+/.test(l))
    .map((l) => l.replace(/\/[^\s:]*\/(hooks|in_target\.d)\//g, '.../'))
    .slice(0, 1);
  return { pass: false, detail: `${failed.phase}.d failed (exit ${failed.status})${why.length > 0 ? `: ${why[0]}` : ''}` };
}

/** pip's list-valued option as pip reads it (whitespace-separated). */
function words(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

function indexes(config: Record<string, string>): { index: string | undefined; extra: string[] } {
  return { index: config['global.index-url'], extra: words(config['global.extra-index-url']) };
}

function showIndexes(config: Record<string, string>): string {
  const { index, extra } = indexes(config);
  return `index-url ${index ?? '(none)'}; extra-index-url ${extra.length > 0 ? extra.join(', ') : '(none)'}`;
}

/** A config row: the phases passed and pip's effective config satisfies `test`. */
function configRow(test: (config: Record<string, string>) => Verdict): (o: Observation) => Verdict {
  return (observation) => {
    const o = chroot(observation);
    const failed = phasesOk(o);
    if (failed !== undefined) return failed;
    if (o.config === undefined) return { pass: false, detail: 'the probe saw no pip config' };
    return test(o.config);
  };
}

function footprintRow(paths: string[], what: (o: ChrootObservation, left: string[]) => Verdict): (o: Observation) => Verdict {
  return (observation) => {
    const o = chroot(observation);
    const failed = phasesOk(o);
    if (failed !== undefined) return failed;
    const left = changed(o.before, o.after).filter((p) => paths.length === 0 || paths.includes(p) || p.endsWith('.orig'));
    return what(o, left);
  };
}

function describeChange(o: ChrootObservation, path: string): string {
  const after = o.after.get(path) ?? 'absent';
  const before = o.before.get(path) ?? 'absent';
  if (after === 'absent') return `${path} removed`;
  if (before === 'absent') return `${path} left (${after.split(' ')[0]})`;
  return `${path} changed`;
}

/** The user's planted file at `path` is in the root as planted (content, mode, owner 0:0). */
function userFileKept(o: ChrootObservation, path: string): Verdict {
  const planted = o.plant[path];
  if (planted === undefined) throw new Error(`nothing planted at ${path}`);
  const want = `file ${planted.mode.toString(8).padStart(4, '0')} 0:0 sha256:${sha256Of(planted.content).slice(0, 16)}`;
  const now = o.after.get(path);
  if (now === want) return { pass: true, detail: 'restored byte for byte, mode and owner kept' };
  const orig = [...o.after.keys()].filter((p) => p === `${path}.orig` && o.after.get(p) === want);
  if (orig.length > 0) return { pass: false, detail: `${path} ${now === 'absent' ? 'gone' : 'replaced'}; the user's file is left at ${orig[0]}` };
  return { pass: false, detail: `${path}: ${now === 'absent' ? 'gone' : "not the user's file"}` };
}

function imageEntryKept(o: ImageObservation, path: string): Verdict {
  if (o.listing === undefined) return { pass: false, detail: `build failed (exit ${o.exitCode})` };
  const planted = o.plant[path];
  if (planted === undefined) throw new Error(`nothing planted at ${path}`);
  const entry = o.listing.get(path);
  if (
    entry !== undefined &&
    entry.type === 'file' &&
    entry.mode === planted.mode &&
    entry.uid === 0 &&
    entry.gid === 0 &&
    entry.sha256 === sha256Of(planted.content)
  ) {
    return { pass: true, detail: 'in the image byte for byte, mode and owner kept' };
  }
  const orig = o.listing.get(`${path}.orig`);
  if (entry === undefined && orig?.sha256 === sha256Of(planted.content)) return { pass: false, detail: `not in the image; the image has ${path}.orig instead` };
  return { pass: false, detail: entry === undefined ? 'not in the image' : 'in the image, but not as planted' };
}

const MIRROR_URL = 'file:///tmp/pypi';

export function scenarios(): Scenario[] {
  return [
    {
      id: 'default',
      title: 'offline, no URL set: the mounted mirror at file:///tmp/pypi; pip installs from it',
      setup: { how: 'chroot', env: OFFLINE, probe: { install: true } },
      rows: [
        {
          id: 'default-index',
          title: 'No URL set, offline: index-url file:///tmp/pypi and nothing else; pip installs a wheel and its dependency from the mounted mirror',
          kind: 'contract',
          expected: both,
          check: configRow((config) => {
            const { index, extra } = indexes(config);
            return { pass: index === MIRROR_URL && extra.length === 0, detail: showIndexes(config) };
          }),
        },
        {
          id: 'default-installed',
          title: 'pip in install.d installs APP_core (needs Zope.Interface_Thing) from the mirror, offline',
          kind: 'contract',
          expected: both,
          check: (observation) => {
            const o = chroot(observation);
            return phasesOk(o) ?? { pass: o.installed, detail: o.installed ? 'installed and imported' : 'not installed' };
          },
        },
        {
          id: 'trusted-host-none',
          title: 'file:// mirror: no `trusted-host = None`',
          kind: 'defect',
          claim: '`trusted-host = None` for `file://` URLs',
          expected: oursOnly,
          check: configRow((config) => {
            const hosts = words(config['global.trusted-host']);
            return { pass: !hosts.includes('None'), detail: hosts.length > 0 ? `trusted-host ${hosts.join(' ')}` : 'no trusted-host' };
          }),
        },
        {
          id: 'pip-log',
          note: "Raw root only: DIB's finalise_base deletes every *.log under /root before the image is made, so upstream's pip.log never reaches an image (row 'Image: no /root/pip.log').",
          title: "No /root/pip.log left in the root after the element's last phase",
          kind: 'defect',
          claim: '`/root/pip.log` ... stay[s] in the image',
          expected: oursOnly,
          check: footprintRow(['/root/pip.log'], (o, left) => ({
            pass: left.length === 0,
            detail: left.length === 0 ? 'none' : left.map((p) => describeChange(o, p)).join('; '),
          })),
        },
        {
          id: 'pip-dir',
          title: 'No ~/.pip directory created and left in the root (it did not exist)',
          kind: 'defect',
          claim: 'the created `~/.pip` directory stay[s] in the image',
          expected: oursOnly,
          check: footprintRow(['/root/.pip', '/root/.pip/pip.conf'], (o, left) => ({
            pass: left.length === 0,
            detail: left.length === 0 ? 'none' : left.map((p) => describeChange(o, p)).join('; '),
          })),
        },
        {
          id: 'mirror-ro',
          title: 'The mirror is mounted read-only at /tmp/pypi during install.d',
          kind: 'defect',
          claim: 'the mirror is mounted read-write',
          expected: oursOnly,
          check: (observation) => {
            const o = chroot(observation);
            const seen = o.mirror ?? 'not probed';
            return {
              pass: seen === 'read-only',
              detail: seen === 'writable' ? "mounted read-write: install.d could write into the host's mirror" : `mirror ${seen}`,
            };
          },
        },
        {
          id: 'mirror-unmounted',
          note: "DIB's unmount_image (or its EXIT trap, on failure) unmounts it later, and finalise_base empties /tmp, so an image has neither the mount nor /tmp/pypi with either element.",
          title: "The element itself unmounts the mirror and removes the /tmp/pypi it made (before DIB's own clean-up)",
          kind: 'upstream',
          claim: "extra-data.d ... bind-mounts the cache ... and never unmounts it (DIB core's EXIT trap unmounts everything)",
          expected: oursOnly,
          check: (observation) => {
            const o = chroot(observation);
            const failed = phasesOk(o);
            if (failed !== undefined) return failed;
            const dirLeft = o.after.get('/tmp/pypi') !== 'absent';
            const mounted = o.build.mountsLeft.includes('/tmp/pypi');
            const detail = mounted
              ? 'still mounted at /tmp/pypi after post-root.d'
              : dirLeft
                ? 'unmounted, but the /tmp/pypi directory is left'
                : 'unmounted, /tmp/pypi removed';
            return { pass: !mounted && !dirLeft, detail };
          },
        },
        {
          id: 'no-leftovers',
          title: 'No pip.conf, .pydistutils.cfg or *.orig of the element left in the root',
          kind: 'contract',
          expected: both,
          check: footprintRow(
            ['/etc/pip.conf', '/etc/xdg/pip/pip.conf', '/root/.pip/pip.conf', '/root/.config/pip/pip.conf', '/root/.pydistutils.cfg'],
            (o, left) => ({
              pass: left.length === 0,
              detail: left.length === 0 ? 'none' : left.map((p) => describeChange(o, p)).join('; '),
            }),
          ),
        },
      ],
    },
    {
      id: 'user-files',
      title: "the user's own /root/.pip/pip.conf (0600) and /root/.pydistutils.cfg (0640) in the root",
      setup: { how: 'chroot', env: OFFLINE, plant: USER_FILES, probe: { install: true } },
      rows: [
        {
          id: 'user-pip-conf',
          title: "The user's ~/.pip/pip.conf is restored byte for byte (mode, owner)",
          kind: 'contract',
          expected: both,
          check: (observation) => {
            const o = chroot(observation);
            return phasesOk(o) ?? userFileKept(o, '/root/.pip/pip.conf');
          },
        },
        {
          id: 'user-distutils',
          title: "The user's ~/.pydistutils.cfg is restored byte for byte (mode, owner)",
          kind: 'defect',
          claim: "the user's `.pydistutils.cfg` is moved away and never restored",
          expected: oursOnly,
          check: (observation) => {
            const o = chroot(observation);
            return phasesOk(o) ?? userFileKept(o, '/root/.pydistutils.cfg');
          },
        },
      ],
    },
    {
      id: 'twice',
      title: "the element's configure step runs twice (upstream: pre-install.d, ours: extra-data.d), with the user's pip.conf in the root",
      setup: { how: 'chroot', env: OFFLINE, plant: { '/root/.pip/pip.conf': USER_FILES['/root/.pip/pip.conf'] }, configureTwice: true, probe: {} },
      rows: [
        {
          id: 'twice',
          note: "The configure step is the phase that writes the pip config: upstream's pre-install.d, our extra-data.d (which also mounts the mirror, so the second run meets it mounted).",
          title: "Configure step run twice: the user's pip.conf comes back, nothing of the element leaks",
          kind: 'defect',
          claim:
            'a second pre-install run overwrites the `.orig` backup with the generated file (the mirror config then leaks into the image and the original is lost)',
          expected: oursOnly,
          check: (observation) => {
            const o = chroot(observation);
            const failed = phasesOk(o);
            if (failed !== undefined) return failed;
            const kept = userFileKept(o, '/root/.pip/pip.conf');
            const leaks = changed(o.before, o.after).filter((p) => p !== '/root/pip.log' && p !== '/tmp/pypi');
            if (!kept.pass) {
              const content = o.files.get('/root/.pip/pip.conf') ?? '';
              return { pass: false, detail: `${kept.detail}${content.includes('/tmp/pypi') ? ': the generated mirror config is left in its place' : ''}` };
            }
            const mounted = o.build.mountsLeft.map((m) => `${m} still mounted`);
            const problems = [...leaks.map((p) => describeChange(o, p)), ...mounted];
            return {
              pass: problems.length === 0,
              detail: problems.length === 0 ? "the user's pip.conf is back; nothing else changed, nothing left mounted" : problems.join('; '),
            };
          },
        },
      ],
    },
    {
      id: 'numbered',
      title: 'DIB_PYPI_MIRROR_URL, _2 and _10 set (offline)',
      setup: {
        how: 'chroot',
        env: {
          ...OFFLINE,
          DIB_PYPI_MIRROR_URL: MIRROR_URL,
          DIB_PYPI_MIRROR_URL_2: 'http://two.invalid/simple',
          DIB_PYPI_MIRROR_URL_10: 'http://ten.invalid/simple',
        },
        probe: {},
      },
      rows: [
        {
          id: 'numbered-order',
          title: 'DIB_PYPI_MIRROR_URL_2 comes before DIB_PYPI_MIRROR_URL_10 in extra-index-url',
          kind: 'defect',
          claim: '`_10` sorts before `_2` (string sort of names)',
          expected: oursOnly,
          check: configRow((config) => {
            const { index, extra } = indexes(config);
            return { pass: index === MIRROR_URL && extra.join(' ') === 'http://two.invalid/simple http://ten.invalid/simple', detail: showIndexes(config) };
          }),
        },
      ],
    },
    {
      id: 'prefix',
      title: 'DIB_PYPI_MIRROR_URL and DIB_PYPI_MIRROR_URL_BACKUP (a name that merely starts like one) set (offline)',
      setup: {
        how: 'chroot',
        env: { ...OFFLINE, DIB_PYPI_MIRROR_URL: MIRROR_URL, DIB_PYPI_MIRROR_URL_BACKUP: 'http://prefix-only.invalid/simple' },
        probe: {},
      },
      rows: [
        {
          id: 'prefix-only',
          title: 'A variable whose name merely starts with DIB_PYPI_MIRROR_URL is not used',
          kind: 'defect',
          claim: 'any variable whose name merely starts with `DIB_PYPI_MIRROR_URL` counts',
          expected: oursOnly,
          check: configRow((config) => {
            const used = Object.values(config).some((v) => v.includes('prefix-only.invalid'));
            return { pass: !used, detail: `${showIndexes(config)}` };
          }),
        },
      ],
    },
    {
      id: 'empty',
      title: 'DIB_PYPI_MIRROR_URL set, DIB_PYPI_MIRROR_URL_1 empty, DIB_PYPI_MIRROR_URL_2 set (offline)',
      setup: {
        how: 'chroot',
        env: { ...OFFLINE, DIB_PYPI_MIRROR_URL: MIRROR_URL, DIB_PYPI_MIRROR_URL_1: '', DIB_PYPI_MIRROR_URL_2: 'http://two.invalid/simple' },
        probe: {},
      },
      rows: [
        {
          id: 'empty-skipped',
          note: "pip splits extra-index-url on whitespace, so upstream's empty line does no harm there. As the first value it does: with DIB_PYPI_MIRROR_URL='' and PYPI_MIRROR_URL set, upstream writes an empty `index-url =` and pip falls back to its default public index.",
          title: 'An empty DIB_PYPI_MIRROR_URL_<N> is skipped (no empty index entry in the config)',
          kind: 'defect',
          claim: 'empty values are kept',
          expected: oursOnly,
          check: configRow((config) => {
            // pip's configparser keeps an empty continuation line inside a value; the first line
            // (right after `extra-index-url =`) may be empty in a multi-line value.
            const raw = config['global.extra-index-url'] ?? '';
            const lines = raw.split('\n');
            const empty = lines.slice(lines[0] === '' ? 1 : 0).some((l) => l.trim() === '');
            const { extra } = indexes(config);
            return {
              pass: !empty && config['global.index-url'] === MIRROR_URL && extra.join(' ') === 'http://two.invalid/simple',
              detail: `extra-index-url value ${JSON.stringify(raw)}`,
            };
          }),
        },
      ],
    },
    {
      id: 'two-http',
      title: 'two http mirrors (DIB_PYPI_MIRROR_URL with a port, DIB_PYPI_MIRROR_URL_1) and DIB_PIP_RETRIES=0 (offline)',
      setup: {
        how: 'chroot',
        env: { ...OFFLINE, DIB_PYPI_MIRROR_URL: 'http://one.invalid:8080/simple', DIB_PYPI_MIRROR_URL_1: 'http://two.invalid/simple', DIB_PIP_RETRIES: '0' },
        probe: {},
      },
      rows: [
        {
          id: 'two-http-order',
          title: 'DIB_PYPI_MIRROR_URL is index-url, DIB_PYPI_MIRROR_URL_1 extra-index-url',
          kind: 'contract',
          expected: both,
          check: configRow((config) => {
            const { index, extra } = indexes(config);
            return { pass: index === 'http://one.invalid:8080/simple' && extra.join(' ') === 'http://two.invalid/simple', detail: showIndexes(config) };
          }),
        },
        {
          id: 'two-http-trusted',
          title: 'Two http mirrors: both hosts are trusted',
          kind: 'defect',
          claim: 'trusted-host only for the first URL',
          expected: oursOnly,
          check: configRow((config) => {
            const hosts = words(config['global.trusted-host']).map((h) => h.replace(/:\d+$/, ''));
            return {
              pass: hosts.includes('one.invalid') && hosts.includes('two.invalid'),
              detail: `trusted-host ${words(config['global.trusted-host']).join(' ') || '(none)'}`,
            };
          }),
        },
        {
          id: 'retries',
          title: "DIB_PIP_RETRIES=0 becomes pip's retries = 0",
          kind: 'contract',
          expected: both,
          check: configRow((config) => ({ pass: config['global.retries'] === '0', detail: `retries ${config['global.retries'] ?? '(none)'}` })),
        },
      ],
    },
    {
      id: 'gone',
      title: 'a later install.d removes every pip.conf before post-install',
      setup: { how: 'chroot', env: OFFLINE, probe: { removePipConf: true } },
      rows: [
        {
          id: 'gone',
          title: 'Restore when pip.conf is already gone does not fail the build',
          kind: 'defect',
          claim: 'post-install fails the build when pip.conf is already gone (`rm` without `-f` under `set -e`)',
          expected: oursOnly,
          check: (observation) => phasesOk(chroot(observation)) ?? { pass: true, detail: 'every phase passed' },
        },
      ],
    },
    {
      id: 'no-python',
      title: 'no python3 in the root (/usr/bin/python3* removed)',
      setup: { how: 'chroot', env: OFFLINE, removePython: true, probe: {} },
      rows: [
        {
          id: 'no-python',
          note: "Upstream's pre-install.d is a #!/usr/bin/python3 script; ours runs nothing in the chroot.",
          title: 'Works without python3 in the chroot',
          kind: 'defect',
          claim: 'it needs python3 inside the chroot',
          expected: oursOnly,
          check: (observation) => phasesOk(chroot(observation)) ?? { pass: true, detail: 'every phase passed' },
        },
      ],
    },
    {
      id: 'online',
      title: 'online (no DIB_OFFLINE), no URL set',
      setup: { how: 'chroot', env: {}, probe: {} },
      rows: [
        {
          id: 'online-public',
          title: 'Online: a public PyPI index is appended after the mirror',
          kind: 'contract',
          expected: both,
          check: configRow((config) => {
            const { index, extra } = indexes(config);
            const last = extra.at(-1) ?? '';
            return { pass: index === MIRROR_URL && /^https:\/\/(pypi\.org|pypi\.python\.org)\/simple\/?$/.test(last), detail: showIndexes(config) };
          }),
        },
        {
          id: 'online-pypi-org',
          title: 'Online: the public index is https://pypi.org/simple',
          kind: 'upstream',
          claim: 'the public index it appends is `https://pypi.python.org/simple`',
          expected: oursOnly,
          check: configRow((config) => {
            const last = indexes(config).extra.at(-1);
            return { pass: last === 'https://pypi.org/simple', detail: `public index ${last ?? '(none)'}` };
          }),
        },
      ],
    },
    {
      id: 'no-pypi',
      title: 'online with DIB_NO_PYPI_PIP=1, no URL set',
      setup: { how: 'chroot', env: { DIB_NO_PYPI_PIP: '1' }, probe: {} },
      rows: [
        {
          id: 'no-pypi',
          title: 'DIB_NO_PYPI_PIP drops the public index',
          kind: 'contract',
          expected: both,
          check: configRow((config) => {
            const { index, extra } = indexes(config);
            return { pass: index === MIRROR_URL && extra.length === 0, detail: showIndexes(config) };
          }),
        },
      ],
    },
    {
      id: 'deprecated',
      title: 'only the deprecated PYPI_MIRROR_URL set (offline)',
      setup: { how: 'chroot', env: { ...OFFLINE, PYPI_MIRROR_URL: 'http://legacy.invalid/simple' }, probe: {} },
      rows: [
        {
          id: 'deprecated',
          title: 'The deprecated PYPI_MIRROR_URL is still accepted as index-url',
          kind: 'contract',
          expected: both,
          check: configRow((config) => {
            const { index, extra } = indexes(config);
            return { pass: index === 'http://legacy.invalid/simple' && extra.length === 0, detail: showIndexes(config) };
          }),
        },
      ],
    },
    {
      id: 'image-user-files',
      title: "real disk-image-create --offline build, the user's pip.conf (0600) and .pydistutils.cfg (0640) planted by the base element",
      setup: { how: 'image', plant: USER_FILES, probe: { install: true } },
      rows: [
        {
          id: 'image-user-pip-conf',
          title: "Image: the user's ~/.pip/pip.conf is in the image byte for byte (mode, owner)",
          kind: 'contract',
          expected: both,
          check: (observation) => imageEntryKept(image(observation), '/root/.pip/pip.conf'),
        },
        {
          id: 'image-user-distutils',
          title: "Image: the user's ~/.pydistutils.cfg is in the image byte for byte (mode, owner)",
          kind: 'defect',
          claim: "the user's `.pydistutils.cfg` is moved away and never restored",
          expected: oursOnly,
          check: (observation) => imageEntryKept(image(observation), '/root/.pydistutils.cfg'),
        },
      ],
    },
    {
      id: 'image-plain',
      title: 'real disk-image-create --offline build, nothing planted, pip install in install.d',
      setup: { how: 'image', probe: { install: true } },
      rows: [
        {
          id: 'image-installed',
          title: 'Image: the packages pip installed from the mirror are in the image',
          kind: 'contract',
          expected: both,
          check: (observation) => {
            const o = image(observation);
            if (o.listing === undefined) return { pass: false, detail: `build failed (exit ${o.exitCode})` };
            const ok =
              o.listing.has('/usr/local/lib/python3.11/dist-packages/app_core/__init__.py') &&
              o.listing.has('/usr/local/lib/python3.11/dist-packages/zope_interface_thing/__init__.py');
            return { pass: ok, detail: ok ? 'app_core and zope_interface_thing installed' : 'missing' };
          },
        },
        {
          id: 'image-pip-log',
          note: "Upstream leaves /root/pip.log in the root (row 'No /root/pip.log left in the root'), but DIB's finalise_base deletes it: DESIGN.md's 'stays in the image' holds for the raw root only.",
          title: "Image: no /root/pip.log (DIB's finalise_base deletes *.log under /root whatever the element left)",
          kind: 'contract',
          expected: both,
          check: (observation) => {
            const o = image(observation);
            if (o.listing === undefined) return { pass: false, detail: `build failed (exit ${o.exitCode})` };
            return { pass: !o.listing.has('/root/pip.log'), detail: o.listing.has('/root/pip.log') ? '/root/pip.log in the image' : 'none' };
          },
        },
        {
          id: 'image-pip-dir',
          title: 'Image: no ~/.pip directory created by the element',
          kind: 'defect',
          claim: 'the created `~/.pip` directory stay[s] in the image',
          expected: oursOnly,
          check: (observation) => {
            const o = image(observation);
            if (o.listing === undefined) return { pass: false, detail: `build failed (exit ${o.exitCode})` };
            const left = [...o.listing.keys()].filter((p) => p === '/root/.pip' || p.startsWith('/root/.pip/'));
            return { pass: left.length === 0, detail: left.length === 0 ? 'none' : `${left.join(', ')} in the image` };
          },
        },
        {
          id: 'image-no-leftovers',
          title: 'Image: no pip.conf, .pydistutils.cfg, *.orig or /tmp/pypi of the element',
          kind: 'contract',
          expected: both,
          check: (observation) => {
            const o = image(observation);
            if (o.listing === undefined) return { pass: false, detail: `build failed (exit ${o.exitCode})` };
            const left = [...o.listing.keys()].filter((p) => /(^|\/)(pip\.conf|\.pydistutils\.cfg)$|\.orig$|^\/tmp\/pypi(\/|$)/.test(p));
            return { pass: left.length === 0, detail: left.length === 0 ? 'none' : left.join(', ') };
          },
        },
      ],
    },
    {
      id: 'image-fail',
      title: 'real disk-image-create --offline build where a later install.d fails after pip used the mirror',
      setup: { how: 'image', plant: USER_FILES, probe: { install: true, failLater: true } },
      rows: [
        {
          id: 'image-fail',
          title:
            "Failure mid-build (a later install.d fails after pip used the mirror): the build fails with the hook's code, nothing stays mounted, no build dir or dib-pypi state is left",
          kind: 'contract',
          expected: both,
          check: (observation) => {
            const o = image(observation);
            const problems = [
              ...(o.log.includes(INSTALL_MARK) ? [] : ['pip did not install from the mirror before the failure']),
              ...(o.exitCode !== 7 ? [`exit ${o.exitCode}, not 7`] : []),
              ...(o.mountsLeft.length > 0 ? [`${o.mountsLeft.length} mounts left`] : []),
              ...(o.loopsLeft.length > 0 ? [`${o.loopsLeft.length} loop devices left`] : []),
              ...(o.buildDirsLeft.length > 0 ? ['build dir left'] : []),
              ...(o.stateRootChanged ? [`${STATE_ROOT} changed`] : []),
            ];
            return {
              pass: problems.length === 0,
              detail: problems.length === 0 ? 'pip installed from the mirror, then exit 7; nothing mounted, no build dir, no state' : problems.join('; '),
            };
          },
        },
      ],
    },
  ];
}

// ---------------------------------------------------------------------------------------------
// Running scenarios.

function newWorkDir(): string {
  return mkdtempSync(join(WORK_DIR_PARENT, WORK_PREFIX));
}

function removeWorkDir(dir: string): void {
  if (!dir.startsWith(join(WORK_DIR_PARENT, WORK_PREFIX))) throw new Error(`refusing to remove ${dir}`);
  unmountAll(dir);
  const still = mountsAtOrUnder(dir);
  if (still.length > 0) throw new Error(`refusing to remove ${dir}: still mounted inside it: ${still.join(', ')}`);
  must('rm', ['-rf', '--one-file-system', '--', dir]);
}

function plantFiles(root: string, plant: Record<string, { content: string; mode: number }>): void {
  for (const [path, { content, mode }] of Object.entries(plant)) {
    const host = join(root, path);
    mkdirSync(dirname(host), { recursive: true, mode: 0o755 });
    writeFileSync(host, content);
    chmodSync(host, mode);
  }
}

function stateRootListing(): string {
  return existsSync(STATE_ROOT) ? readdirSync(STATE_ROOT, { recursive: true }).map(String).sort().join('\n') : '';
}

async function observeChroot(element: ElementUnderTest, setup: ChrootSetup, masterMirror: string): Promise<ChrootObservation> {
  await using fresh = await makeBookwormRoot();
  const root = fresh.root;
  const workDir = newWorkDir();
  try {
    const cache = join(workDir, 'cache');
    mkdirSync(cache);
    if (setup.mirror !== false) cpSync(masterMirror, join(cache, 'pypi', 'mirror'), { recursive: true });
    plantFiles(root, setup.plant ?? {});
    if (setup.removePython) {
      for (const name of readdirSync(join(root, 'usr/bin')).filter((n) => /^python3(\.\d+)?$/.test(n))) rmSync(join(root, 'usr/bin', name));
    }
    const probe = writeProbe(join(workDir, 'elements'), setup.probe);
    const before = footprint(root);
    const sequence = setup.configureTwice ? DIB_ORDER.flatMap((p) => (p === element.configurePhase ? [p, p] : [p])) : DIB_ORDER;
    const build = emulateBuild({
      root,
      workDir: join(workDir, 'build'),
      elementDirs: [element.dir, probe],
      env: { DIB_IMAGE_CACHE: cache, DIB_PYPI_BIN: BIN, ...(setup.env ?? {}) },
      sequence,
    });
    const after = footprint(root);
    const files = new Map([...after].filter(([, what]) => what.startsWith('file ')).map(([path]) => [path, readFileSync(join(root, path), 'utf8')]));
    return {
      how: 'chroot',
      element,
      build,
      config: probedConfig(build.output),
      mirror: probedMirror(build.output),
      installed: build.output.includes(INSTALL_MARK),
      before,
      after,
      plant: setup.plant ?? {},
      files,
    };
  } finally {
    removeWorkDir(workDir);
  }
}

async function observeImage(element: ElementUnderTest, setup: ImageSetup, masterMirror: string): Promise<ImageObservation> {
  const workDir = newWorkDir();
  try {
    const cache = join(workDir, 'cache');
    cpSync(masterMirror, join(cache, 'pypi', 'mirror'), { recursive: true });
    writeProbe(join(workDir, 'elements'), setup.probe);
    const stateBefore = stateRootListing();
    await using build = await buildImage({
      elements: ['pypi', PROBE_ELEMENT],
      extraElementsPaths: [...element.elementsPaths, join(workDir, 'elements')],
      env: { DIB_IMAGE_CACHE: cache, DIB_PYPI_BIN: BIN },
      args: ['--offline'],
      ...(setup.plant !== undefined ? { plant: setup.plant } : {}),
    });
    const listing = build.exitCode === 0 ? await listTar(build.tar) : undefined;
    return {
      how: 'image',
      element,
      exitCode: build.exitCode,
      log: build.log,
      listing,
      mountsLeft: build.mountsLeft,
      loopsLeft: build.loopsLeft,
      buildDirsLeft: readdirSync(join(build.workDir, 'tmp')),
      stateRootChanged: stateRootListing() !== stateBefore,
      plant: setup.plant ?? {},
    };
  } finally {
    removeWorkDir(workDir);
  }
}

export interface RowResult {
  scenario: Scenario;
  row: Row;
  verdicts: Record<ElementId, Verdict>;
}

export interface ConformanceResult {
  rows: RowResult[];
  /** Seconds per scenario and element, for the test's diagnostics (never in the table). */
  timings: Array<{ scenario: string; element: ElementId; seconds: number }>;
  /** Raw output per scenario and element, for failure messages. */
  logs: Map<string, string>;
}

/** Run every scenario (or those whose id `only` lists) for both elements. */
export async function runConformance(options: { only?: string[]; onProgress?: (line: string) => void } = {}): Promise<ConformanceResult> {
  const elements = elementsUnderTest();
  const progress = options.onProgress ?? (() => {});
  const mirrorDir = newWorkDir();
  const results: RowResult[] = [];
  const timings: ConformanceResult['timings'] = [];
  const logs = new Map<string, string>();
  try {
    const master = join(mirrorDir, 'mirror');
    await makeElementMirror(master);
    for (const scenario of scenarios().filter((s) => options.only === undefined || options.only.includes(s.id))) {
      const verdicts = new Map<string, Record<ElementId, Verdict>>();
      for (const id of ELEMENT_IDS) {
        const element = elements[id];
        const started = Date.now();
        const observation =
          scenario.setup.how === 'chroot' ? await observeChroot(element, scenario.setup, master) : await observeImage(element, scenario.setup, master);
        const seconds = (Date.now() - started) / 1000;
        timings.push({ scenario: scenario.id, element: id, seconds });
        logs.set(`${scenario.id}/${id}`, observation.how === 'chroot' ? observation.build.output : observation.log.split('\n').slice(-80).join('\n'));
        for (const row of scenario.rows) {
          const verdict = row.check(observation);
          verdicts.set(row.id, { ...(verdicts.get(row.id) ?? ({} as Record<ElementId, Verdict>)), [id]: verdict });
        }
        progress(`${scenario.id} / ${id}: ${seconds.toFixed(1)} s`);
      }
      for (const row of scenario.rows) results.push({ scenario, row, verdicts: verdicts.get(row.id) as Record<ElementId, Verdict> });
    }
  } finally {
    removeWorkDir(mirrorDir);
  }
  return { rows: results, timings, logs };
}

// ---------------------------------------------------------------------------------------------
// The table.

const KIND_LABEL: Record<Kind, string> = { defect: 'upstream defect', upstream: 'upstream behaviour', contract: 'contract' };

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}

/** A plain-text table for a terminal: scenario x element -> PASS/FAIL. */
export function textTable(rows: RowResult[]): string {
  const header = ['row', 'kind', 'how', 'upstream', 'ours', 'scenario'];
  const lines = rows.map((r, i) => [
    String(i + 1),
    KIND_LABEL[r.row.kind],
    r.scenario.setup.how,
    r.verdicts.upstream.pass ? 'PASS' : 'FAIL',
    r.verdicts.ours.pass ? 'PASS' : 'FAIL',
    r.row.title,
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...lines.map((l) => (l[c] ?? '').length)));
  const format = (l: string[]) => l.map((v, c) => (c === l.length - 1 ? v : v.padEnd(widths[c] ?? 0))).join('  ');
  return [format(header), format(widths.map((w) => '-'.repeat(w))), ...lines.map(format)].join('\n');
}

/** docs/conformance.md: deterministic (no paths, ports or times), so it can be committed. */
export function markdownReport(rows: RowResult[], dibVersion: string): string {
  const out = [
    "# Conformance: upstream `pypi` element vs dib-pypi's",
    '',
    '<!-- Generated by test/integration/conformance.test.ts (or `npm run conformance`); do not edit by hand. -->',
    '',
    `Upstream is the \`pypi\` element of Debian's diskimage-builder ${dibVersion}; ours is \`elements/pypi\` of this`,
    'repository. Each row is one scenario, run the same way for both elements:',
    '',
    '- **chroot**: the closest honest equivalent of a build, on a fresh Debian bookworm root: the',
    "  element's phases in disk-image-create's order (extra-data.d, pre-install.d, install.d,",
    "  post-install.d, post-root.d) with DIB's variables and its own `dib-run-parts`; in-chroot phases",
    '  through `/tmp/in_target.d` as `run_d_in_target` does, with `/proc`, `/dev` and `/sys` mounted',
    "  as `mount_proc_dev_sys` does. A test element's install.d reports what pip sees (`pip config",
    '  list`) and installs from the mirror. The root is inspected right after post-root.d, before',
    "  DIB's own clean-up (unmounting, emptying `/tmp`, deleting `*.log` under `/root`).",
    '- **image**: a real `disk-image-create -t tar --offline` build; the image tar is inspected.',
    '',
    'Kinds: **upstream defect** rows are the "Upstream defects we must not copy" of DESIGN.md',
    '(expected: upstream FAIL, ours PASS); **upstream behaviour** rows check other DESIGN.md',
    'statements about upstream where the two differ on purpose; **contract** rows must pass for both.',
    '',
    '| # | Scenario | Kind | How | Upstream | Ours | Upstream: seen | Ours: seen |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map((r, i) =>
      [
        '',
        String(i + 1),
        cell(r.row.title),
        KIND_LABEL[r.row.kind],
        r.scenario.setup.how,
        r.verdicts.upstream.pass ? 'PASS' : '**FAIL**',
        r.verdicts.ours.pass ? 'PASS' : '**FAIL**',
        cell(r.verdicts.upstream.detail),
        cell(r.verdicts.ours.detail),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    '',
    '## Setups',
    '',
    ...[...new Map(rows.map((r) => [r.scenario.id, r.scenario])).values()].map(
      (s) => `- \`${s.id}\` (${s.setup.how}): ${s.title}; rows ${rows.flatMap((r, i) => (r.scenario.id === s.id ? [String(i + 1)] : [])).join(', ')}.`,
    ),
    '',
    '## DESIGN.md statements checked',
    '',
    ...rows
      .filter((r) => r.row.claim !== undefined)
      .map(
        (r) => `- "${r.row.claim}": row ${rows.indexOf(r) + 1}, upstream ${r.verdicts.upstream.pass ? 'PASS' : 'FAIL'} (${cell(r.verdicts.upstream.detail)}).`,
      ),
    '',
    '## Notes',
    '',
    ...rows.filter((r) => r.row.note !== undefined).map((r) => `- Row ${rows.indexOf(r) + 1}: ${r.row.note}`),
    '',
  ];
  return out.join('\n');
}

export function dibVersion(): string {
  const result = spawnSync('/usr/bin/python3', ['-c', 'import diskimage_builder.version as v; print(v.version_info.version_string())'], {
    encoding: 'utf8',
    env: { PATH: SYSTEM_PATH },
  });
  return result.status === 0 ? result.stdout.trim() : 'unknown';
}

export const CONFORMANCE_DOC = new URL('../../../docs/conformance.md', import.meta.url).pathname;
