// Processes still running inside a root (after `dib-pypi chroot` was killed, say): found by /proc/PID/root, as DIB's own clean-up finds them, and stopped on request.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { appendAll } from '../append-all.js';
import { StateError } from '../errors.js';

export interface RootProcess {
  pid: number;
  /** Its name (/proc/PID/comm). */
  comm: string;
}

function isAtOrBelow(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === '/' ? '/' : `${dir}/`);
}

function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined; // gone, a zombie (it holds nothing any more), or not ours to see
  }
}

/**
 * Processes whose root directory is `realRoot` or below it (DIB's `_get_chroot_processes`).
 * None for `/`: every process would match.
 */
export function processesInRoot(realRoot: string): RootProcess[] {
  if (realRoot === '/') return [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return []; // no /proc: nothing we can see
  }
  const found: RootProcess[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || pid === 1) continue;
    const root = rootOf(pid);
    if (root === undefined || !isAtOrBelow(root, realRoot)) continue;
    let comm = 'unknown';
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      // exited meanwhile
    }
    found.push({ pid, comm });
  }
  return found.sort((a, b) => a.pid - b.pid);
}

/** Which of `mountPoints` (host paths) the process uses: as its root or cwd, an open file or a mapped one (as `fuser -m` looks). */
export function mountsHeldBy(pid: number, mountPoints: readonly string[]): string[] {
  if (mountPoints.length === 0) return [];
  const paths: string[] = [];
  for (const link of ['root', 'cwd']) {
    try {
      paths.push(readlinkSync(`/proc/${pid}/${link}`));
    } catch {
      // gone, or not visible
    }
  }
  try {
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        paths.push(readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        // closed meanwhile
      }
    }
  } catch {
    // gone
  }
  try {
    for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
      const file = line.split(/\s+/).slice(5).join(' ');
      if (file.startsWith('/')) paths.push(file);
    }
  } catch {
    // gone
  }
  return mountPoints.filter((mount) => paths.some((p) => isAtOrBelow(p.replace(/ \(deleted\)$/, ''), mount)));
}

export function describeProcesses(processes: readonly RootProcess[]): string {
  return processes.map((p) => `${p.pid} (${p.comm})`).join(', ');
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Still there, and still inside the root (a reused pid that is elsewhere is not ours to kill). */
function stillInside(processes: readonly RootProcess[], realRoot: string): RootProcess[] {
  return processes.filter((p) => {
    const root = rootOf(p.pid);
    return root !== undefined && isAtOrBelow(root, realRoot);
  });
}

function signalAll(processes: readonly RootProcess[], signal: NodeJS.Signals): void {
  for (const p of processes) {
    try {
      process.kill(p.pid, signal);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH')
        throw new StateError(`cannot stop process ${p.pid} (${p.comm}) inside the root: ${(error as NodeJS.ErrnoException).code}`);
    }
  }
}

/**
 * Stop the processes running inside `realRoot`, as DIB's `kill_chroot_processes` does: SIGTERM,
 * then SIGKILL to those still there after `graceMs`; repeated until none is left inside (a
 * process may start others while it dies). Throws when some survive SIGKILL (stuck in the kernel).
 */
export function stopProcessesInRoot(realRoot: string, graceMs = 3000): RootProcess[] {
  const stopped: RootProcess[] = [];
  for (let round = 0; round < 5; round++) {
    const found = processesInRoot(realRoot);
    if (found.length === 0) return stopped;
    appendAll(
      stopped,
      found.filter((p) => !stopped.some((s) => s.pid === p.pid)),
    );
    signalAll(found, 'SIGTERM');
    for (let waited = 0; waited < graceMs && stillInside(found, realRoot).length > 0; waited += 50) sleepMs(50);
    signalAll(stillInside(found, realRoot), 'SIGKILL');
    for (let waited = 0; waited < 5000 && stillInside(found, realRoot).length > 0; waited += 50) sleepMs(50);
  }
  const left = processesInRoot(realRoot);
  if (left.length > 0) throw new StateError(`cannot stop the processes inside ${realRoot}: ${describeProcesses(left)} survived SIGKILL; nothing was restored`);
  return stopped;
}
