// Polling for a condition a test waits on (a process replaced, a download stored).
import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves once `check()` holds; fails naming `what` after `ms`. Checks every 50 ms. */
export async function eventually(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** Whether a process with this pid exists (signal 0 checks without sending anything). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
