// Test fixture: Debian's nginx serving a mirror directory on loopback as a PEP 503 / PEP 691 index,
// in the foreground, with its own config, pid file, logs and temp paths (nothing from /etc/nginx).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { get as getHttps } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { renderNginxConf } from '../../src/server/nginx-conf.js';

export const NGINX = '/usr/sbin/nginx';
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const PORT_ATTEMPTS = 5;

export interface NginxServer extends AsyncDisposable {
  /** `http://127.0.0.1:PORT/`: the index root. */
  url: string;
  /** The master process; its workers are its children. */
  pid: number;
  /** nginx's directory: nginx.conf, error.log, access.log (`METHOD URI STATUS "type" "accept"`). */
  dir: string;
  accessLog(): string;
  /** Fast shutdown (SIGTERM), waits for the master (which waits for its workers), removes `dir`. Idempotent. */
  stop(): Promise<void>;
}

/** Why nginx cannot run here, or undefined when it can. */
export function nginxProblem(): string | undefined {
  if (!existsSync(NGINX)) return `${NGINX} is missing: install Debian's nginx (apt-get install -y nginx)`;
  return undefined;
}

/** A port that was free a moment ago (nginx may still lose a race for it: startNginx retries). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Pids of the live children of `pid` (nginx's workers), from /proc. */
export function childPidsOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}

/** True while `pid` is a live (not zombie) nginx process. */
export function isNginxProcess(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('nginx');
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** Resolves once `url` answers any HTTP status; rejects if nginx exits first or START_TIMEOUT_MS passes. */
async function waitUntilAnswering(url: string, child: ChildProcess): Promise<void> {
  // Any certificate will do here: the test checks the real one.
  const ask = (target: string, done: (response: IncomingMessage) => void) =>
    target.startsWith('https:') ? getHttps(target, { rejectUnauthorized: false }, done) : get(target, done);
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) before answering`);
    const answered = await new Promise<boolean>((resolve) => {
      const request = ask(url, (response) => {
        response.resume();
        resolve(true);
      });
      request.once('error', () => resolve(false));
      request.setTimeout(1_000, () => request.destroy());
    });
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nginx did not answer ${url} within ${START_TIMEOUT_MS} ms`);
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-20).join('\n');
  } catch {
    return '(no error.log)';
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  const pid = child.pid as number;
  const workers = childPidsOf(pid);
  child.kill('SIGTERM');
  if (!(await waitForExit(child, STOP_TIMEOUT_MS))) {
    child.kill('SIGKILL');
    await waitForExit(child, STOP_TIMEOUT_MS);
  }
  // A SIGKILLed master leaves its workers behind: end them by pid, never by name.
  for (const worker of workers) if (isNginxProcess(worker)) process.kill(worker, 'SIGKILL');
}

/** A whole nginx.conf for `port`, with nginx's own files in `dir`. */
export type RenderConf = (port: number, dir: string) => string;

/** One attempt: nginx on `port`, or an error carrying error.log (a lost port race says "Address already in use"). */
async function startOn(root: string, port: number, render?: RenderConf, scheme = 'http'): Promise<NginxServer> {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-nginx-'));
  const user = process.getuid?.() === 0 ? userInfo().username : undefined;
  // A conf made elsewhere (dib-pypi serve --nginx-conf) has no `user`: as root, the workers would run as nobody.
  writeFileSync(
    join(dir, 'nginx.conf'),
    render === undefined ? renderNginxConf({ root, port, dir, user }) : `${user === undefined ? '' : `user ${user};\n`}${render(port, dir)}`,
  );
  const errorLog = join(dir, 'error.log');
  const child = spawn(NGINX, ['-p', `${dir}/`, '-c', join(dir, 'nginx.conf'), '-e', errorLog, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // If the test process dies without stopping us, take nginx down with it.
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  const url = `${scheme}://127.0.0.1:${port}/`;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stopProcess(child).finally(() => {
      process.removeListener('exit', onExit);
      rmSync(dir, { recursive: true, force: true });
    });
    return stopping;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    await waitUntilAnswering(url, child);
  } catch (error) {
    const detail = `${stderr.trim()}\n${tail(errorLog)}`.trim();
    await stop();
    throw new Error(`nginx failed to start on 127.0.0.1:${port} for ${root}: ${(error as Error).message}\n${detail}`, { cause: error });
  }
  return { url, pid: child.pid as number, dir, accessLog: () => readFileSync(join(dir, 'access.log'), 'utf8'), stop, [Symbol.asyncDispose]: stop };
}

/** Start nginx serving `root` (a mirror directory) on a free loopback port; resolves when it answers. `render`: another nginx.conf (`scheme` https when it serves TLS). */
export async function startNginx(root: string, options: { render?: RenderConf; scheme?: 'http' | 'https' } = {}): Promise<NginxServer> {
  const problem = nginxProblem();
  if (problem !== undefined) throw new Error(problem);
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    try {
      return await startOn(root, await freePort(), options.render, options.scheme);
    } catch (error) {
      lastError = error as Error;
      if (!lastError.message.includes('Address already in use')) throw lastError;
    }
  }
  throw lastError as Error;
}
