// Run `dib-pypi serve` as a user would (the built CLI, a child process) on a free port, and stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN, cleanEnv } from './cli.js';
import { childPidsOf } from './nginx.js';

export interface ServeProcess extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  port: number;
  child: ChildProcess;
  pid: number;
  output: () => string;
  /** Resident memory of the server, in bytes (Linux /proc): summed over its serving processes when it has several. */
  rss: () => number;
  /** The serving processes (--workers N > 1), children of `pid`; none when it serves itself. */
  workerPids: () => number[];
  /** SIGTERM, then wait for the exit; returns the exit code. */
  stop: () => Promise<number | null>;
}

const START_TIMEOUT_MS = 30_000;

/** Start `dib-pypi serve ARGS --port 0` and wait for the URL it prints. */
export function startServe(args: string[], options: { env?: Record<string, string> } = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--', BIN, 'serve', '--port', '0', ...args], { env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  let exited: Promise<number | null> = new Promise((done) => child.once('close', (code) => done(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dib-pypi serve did not print its URL within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (https?:\/\/[^ ]+:(\d+)\/) /.exec(output);
      if (match === null) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stdout?.on('data', (more: Buffer) => (output += more.toString()));
      let stopped = false;
      const stop = async () => {
        if (!stopped) {
          stopped = true;
          child.kill('SIGTERM');
          process.off('exit', onExit);
        }
        return exited;
      };
      resolve({
        url: match[1] as string,
        port: Number(match[2]),
        child,
        pid: child.pid as number,
        output: () => output,
        rss: () => [child.pid as number, ...childPidsOf(child.pid as number)].reduce((sum, pid) => sum + rssOf(pid), 0),
        workerPids: () => childPidsOf(child.pid as number),
        stop,
        [Symbol.asyncDispose]: async () => {
          await stop();
        },
      });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    exited = exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`dib-pypi serve exited (${code}) before printing its URL:\n${output}`));
      return code;
    });
  });
}

function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // ended meanwhile
  }
}
