// Run a command in a chroot with the mirror mounted read-only at /tmp/pypi and pip configured; restore and unmount afterwards, whatever happens.
import { FORWARDED_SIGNALS, runForwardingSignals } from './run-forwarding-signals.js';
import { ConfiguredRoot } from '../inject/configured-root.js';
import type { MountSpec } from '../inject/mounts-in-root.js';
import type { Plan, EnvMap } from '../plan/types.js';
import { defaultMirror, MIRROR_MOUNT } from './mirror-location.js';

export interface ChrootOptions {
  root: string;
  /** Host directory mounted read-only at /tmp/pypi; undefined: none. */
  mirror?: string;
  home: string;
  plan: Plan;
  /** The text of a lock (readLock): at /tmp/pypi-requirements.lock inside the root while CMD runs, pip in hash-checking mode against it. */
  lock?: string;
  stateRoot: string;
  command: string[];
  env: EnvMap;
  onStep?: (name: string) => void;
  warn: (text: string) => void;
  /** Where CMD's standard output goes: ours (default), or our stderr (when ours carries a JSON report). */
  commandStdout?: 'stdout' | 'stderr';
}

/** What a chroot step did: CMD's exit code, what was mounted, written and then restored. */
export interface ChrootResult {
  command: string[];
  root: string;
  /** CMD's exit code (128+n when it was ended by signal n). */
  exitCode: number;
  mounts: MountSpec[];
  /** In-root paths configure wrote. */
  configured: string[];
  /** In-root paths restore put back, removed or re-timed, and the mounts it unmounted. */
  restored: string[];
  warnings: string[];
}

/** Start CMD chrooted, forward our signals to it, resolve with its exit code (128+n for signal n). */
function runChrooted(root: string, command: string[], env: NodeJS.ProcessEnv, stdout: 'stdout' | 'stderr'): Promise<number> {
  return runForwardingSignals('chroot', [root, ...command], { stdio: [0, stdout === 'stderr' ? 2 : 1, 2], env });
}

/** Configure, mount, run CMD, then unmount and restore (also when CMD fails or we are interrupted). Resolves with what it did, CMD's exit code included. */
export async function runInChroot(options: ChrootOptions): Promise<ChrootResult> {
  const mounts: MountSpec[] = [
    { target: '/proc', kind: 'proc' },
    { target: '/dev', kind: 'bind', source: '/dev' },
    { target: '/dev/pts', kind: 'bind', source: '/dev/pts' },
  ];
  if (options.mirror !== undefined) mounts.push({ target: MIRROR_MOUNT, kind: 'bind-ro', source: options.mirror });
  else if (options.plan.indexUrl.url.startsWith(`file://${MIRROR_MOUNT}`)) {
    options.warn(
      `no mirror to mount (no --mirror, and ${defaultMirror(options.env)} does not exist): ${options.plan.indexUrl.url} will be empty inside the root`,
    );
  }
  // While we set up and tear down, a Ctrl-C must not kill us half-way: it is forwarded to CMD only.
  const ignore = () => {};
  for (const signal of FORWARDED_SIGNALS) process.on(signal, ignore);
  const result: ChrootResult = { command: options.command, root: options.root, exitCode: 1, mounts, configured: [], restored: [], warnings: [] };
  const warn = (text: string) => {
    result.warnings.push(text);
    options.warn(text);
  };
  try {
    const configured = ConfiguredRoot.configure({
      root: options.root,
      home: options.home,
      plan: options.plan,
      lock: options.lock,
      stateRoot: options.stateRoot,
      mounts,
      onStep: options.onStep,
      warn,
    });
    result.configured = configured.written;
    try {
      const env = { ...options.env, HOME: options.home } as NodeJS.ProcessEnv;
      result.exitCode = await runChrooted(options.root, options.command, env, options.commandStdout ?? 'stdout');
    } finally {
      result.restored = configured.restore().restored;
    }
    return result;
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, ignore);
  }
}
