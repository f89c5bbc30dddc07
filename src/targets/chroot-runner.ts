// Run a command in a chroot with the mirror mounted read-only at /tmp/pypi and pip configured; restore and unmount afterwards, whatever happens.
import { FORWARDED_SIGNALS, runForwardingSignals } from './run-forwarding-signals.js';
import { preInstall } from '../../hooks/pre-install.js';
import { postInstall } from '../../hooks/post-install.js';
import { mountInRoot, type MountSpec } from '../inject/mounts-in-root.js';
import type { Plan, EnvMap } from '../plan/types.js';
import { defaultMirror, MIRROR_MOUNT } from './mirror-location.js';

export interface ChrootOptions {
  root: string;
  /** Host directory mounted read-only at /tmp/pypi; undefined: none. */
  mirror?: string;
  home: string;
  plan: Plan;
  stateRoot: string;
  command: string[];
  env: EnvMap;
  onStep?: (name: string) => void;
  warn: (text: string) => void;
}

/** Start CMD chrooted, forward our signals to it, resolve with its exit code (128+n for signal n). */
function runChrooted(root: string, command: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return runForwardingSignals('chroot', [root, ...command], { stdio: 'inherit', env });
}

/** Configure, mount, run CMD, then unmount and restore (also when CMD fails or we are interrupted). Returns CMD's exit code. */
export async function runInChroot(options: ChrootOptions): Promise<number> {
  const mounts: MountSpec[] = [
    { target: '/proc', kind: 'proc' },
    { target: '/dev', kind: 'bind', source: '/dev' },
    { target: '/dev/pts', kind: 'bind', source: '/dev/pts' },
  ];
  if (options.mirror !== undefined) mounts.push({ target: MIRROR_MOUNT, kind: 'bind-ro', source: options.mirror });
  else if (options.plan.indexUrl.url.startsWith(`file://${MIRROR_MOUNT}`)) {
    options.warn(`no mirror to mount (no --mirror, and ${defaultMirror(options.env)} does not exist): ${options.plan.indexUrl.url} will be empty inside the root`);
  }
  // While we set up and tear down, a Ctrl-C must not kill us half-way: it is forwarded to CMD only.
  const ignore = () => {};
  for (const signal of FORWARDED_SIGNALS) process.on(signal, ignore);
  try {
    preInstall({ root: options.root, home: options.home, plan: options.plan, stateRoot: options.stateRoot, dirs: mounts.map((m) => m.target), onStep: options.onStep });
    try {
      mountInRoot({ root: options.root, stateRoot: options.stateRoot, mounts, onStep: options.onStep });
      const env = { ...options.env, HOME: options.home } as NodeJS.ProcessEnv;
      return await runChrooted(options.root, options.command, env);
    } finally {
      const result = postInstall({ root: options.root, stateRoot: options.stateRoot, onStep: options.onStep });
      for (const warning of result.warnings) options.warn(warning);
    }
  } finally {
    for (const signal of FORWARDED_SIGNALS) process.off(signal, ignore);
  }
}
