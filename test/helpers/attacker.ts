// An unprivileged local user for the tests that check what such a user can make a root dib-pypi do.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { isRoot, need } from './require.js';

export const ATTACKER = 'dibpypi-attacker';

/** The unprivileged user of these tests (created once, idempotently): its uid and gid. */
export function attacker(): { uid: number; gid: number } {
  const id = () => spawnSync('id', ['-u', ATTACKER], { encoding: 'utf8' });
  if (id().status !== 0) {
    const made = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', ATTACKER], { encoding: 'utf8' });
    // another test run may have created it meanwhile (exit 9: already exists)
    if (made.status !== 0 && made.status !== 9) throw new Error(`useradd ${ATTACKER}: ${made.stderr}`);
  }
  const uid = Number(id().stdout.trim());
  const gid = Number(spawnSync('id', ['-g', ATTACKER], { encoding: 'utf8' }).stdout.trim());
  return { uid, gid };
}

function setprivArgs(): string[] {
  const { uid, gid } = attacker();
  return [`--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'];
}

/** Run a shell script as the attacker (no supplementary groups), the way a local user would. */
export function asAttacker(script: string, args: string[], input?: string): void {
  const result = spawnSync('setpriv', [...setprivArgs(), 'sh', '-euc', script, 'sh', ...args], { input, encoding: 'utf8' });
  assert.equal(result.status, 0, `as ${ATTACKER}: ${result.stderr}`);
}

export function attackerAvailable(t: TestContext): boolean {
  return (
    need(t, isRoot, 'needs root (an unprivileged user, a root restore)') &&
    need(t, spawnSync('setpriv', ['--version']).status === 0, 'needs setpriv (util-linux)')
  );
}

// renameat2(RENAME_EXCHANGE) in a loop: the directory and the symlink trade places atomically, so
// every lookup sees one or the other. Left with the directory back in place when it stops.
const SWAPPER = `
import ctypes, os, signal, sys, time
libc = ctypes.CDLL(None, use_errno=True)
a, b, pause = sys.argv[1].encode(), sys.argv[2].encode(), float(sys.argv[3])
stop = []
signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
while not stop:
    libc.renameat2(-100, a, -100, b, 2)
    if pause > 0: time.sleep(pause)
if os.path.islink(a): libc.renameat2(-100, a, -100, b, 2)
`;

/**
 * Start the attacker swapping directory `dir` with the symlink `link` until stopped; resolves once
 * a swap has been seen (so a test cannot pass because the swapper never ran); stop() waits for it
 * to put the directory back.
 */
export async function startSwapper(dir: string, link: string, pause = 0.002): Promise<{ stop: () => Promise<void>; child: ChildProcess }> {
  const python = ['/usr/bin/python3', '/bin/python3'].find((p) => existsSync(p)) ?? 'python3';
  const child = spawn('setpriv', [...setprivArgs(), python, '-c', SWAPPER, dir, link, String(pause)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let done = false;
  const exited = new Promise<void>((resolve) =>
    child.on('exit', () => {
      done = true;
      resolve();
    }),
  );
  const deadline = Date.now() + 5000;
  while (!lstatSync(dir, { throwIfNoEntry: false })?.isSymbolicLink()) {
    if (done || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the swapper never swapped ${dir}: ${stderr}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return {
    child,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
