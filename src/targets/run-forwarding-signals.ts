// Run a child with our stdio while forwarding SIGINT/SIGTERM/SIGHUP to it; its exit code (128+n for signal n) is ours.
import { spawn, type SpawnOptions } from 'node:child_process';

/** The signals a step runner passes on to its child (and must itself survive until the child is done). */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };

/**
 * Resolves with the child's exit code; rejects with the spawn error when it cannot start.
 * `redirect(pid)`: the processes that get a forwarded signal instead of the child (none: the child).
 */
export function runForwardingSignals(command: string, args: string[], options: SpawnOptions, redirect?: (pid: number) => number[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, options);
    const forward = (signal: NodeJS.Signals) => {
      const targets = redirect !== undefined && child.pid !== undefined ? redirect(child.pid) : [];
      if (targets.length === 0) {
        child.kill(signal);
        return;
      }
      for (const pid of targets) {
        try {
          process.kill(pid, signal);
        } catch {
          // gone meanwhile: its RUN is over
        }
      }
    };
    for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
    const done = () => {
      for (const signal of FORWARDED_SIGNALS) process.off(signal, forward);
    };
    child.on('error', (error) => {
      done();
      reject(error);
    });
    child.on('exit', (code, signal) => {
      done();
      resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? ''] ?? 1));
    });
  });
}
