// `dib-pypi serve --workers N`: several processes share one port; the primary replaces a worker that
// dies, stops them all on SIGTERM/SIGINT, and none outlives a primary killed with SIGKILL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { BIN, cleanEnv, runCli } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { makeTempDir } from '../../helpers/python.js';
import { startServe } from '../../helpers/serve.js';
import { eventually, isAlive } from '../../helpers/wait.js';

async function makeMirror(dir: string): Promise<void> {
  await makeWheel(join(dir, 'demo-pkg'), { name: 'demo-pkg', version: '1.0' });
  assert.equal(runCli(['mirror', 'index', dir]).status, 0);
}

/** Holds COUNT keep-alive connections open at once and asks for the root page on each. */
async function openConnections(base: string, count: number): Promise<Agent> {
  const agent = new Agent({ keepAlive: true, maxSockets: count });
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((done, fail) => {
          const req = request(`${base}demo-pkg/`, { agent }, (res) => {
            res.resume();
            res.on('end', () => done());
          });
          req.on('error', fail);
          req.end();
        }),
    ),
  );
  return agent;
}

test('serve --workers 2: two serving processes share the port, both answer; SIGTERM stops all of them', async () => {
  await using mirror = makeTempDir('dib-pypi-cluster-');
  await makeMirror(mirror.path);
  const server = await startServe([mirror.path, '--workers', '2']);
  try {
    assert.match(server.output(), /, 2 processes; Ctrl-C stops/);
    assert.equal(server.output().match(/ at http:/g)?.length, 1, 'the URL is printed once');
    const workers = server.workerPids();
    assert.equal(workers.length, 2, `serving processes: ${workers.join(' ')}`);
    const page = await httpRequest(`${server.url}demo-pkg/`);
    assert.equal(page.status, 200);
    assert.match(page.body.toString(), /demo_pkg-1\.0-py3-none-any\.whl/);
    // Eight connections open at once are dealt round-robin: each worker holds some of them.
    const agent = await openConnections(server.url, 8);
    const holders = await connectionHolders(server.port);
    agent.destroy();
    for (const pid of workers) assert.ok((holders.get(pid) ?? 0) > 0, `worker ${pid} holds no connection: ${JSON.stringify([...holders])}`);
    assert.equal(holders.get(server.pid) ?? 0, 0, 'the primary serves nothing itself');
  } finally {
    const code = await server.stop();
    assert.equal(code, 0);
  }
  for (const pid of server.workerPids()) assert.fail(`process ${pid} outlived the primary`);
});

/** pid -> number of established server-side connections on PORT (ss -tnp). */
async function connectionHolders(port: number): Promise<Map<number, number>> {
  const ss = spawn('ss', ['-Htnp', 'state', 'established', `( sport = :${port} )`], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  ss.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await once(ss, 'close');
  const holders = new Map<number, number>();
  for (const match of out.matchAll(/pid=(\d+)/g)) holders.set(Number(match[1]), (holders.get(Number(match[1])) ?? 0) + 1);
  return holders;
}

test('serve --workers 2: a worker that dies is replaced and serving goes on; workers that keep dying stop the server', async () => {
  await using mirror = makeTempDir('dib-pypi-cluster-');
  await makeMirror(mirror.path);
  await using server = await startServe([mirror.path, '--workers', '2']);
  const [victim] = server.workerPids();
  assert.ok(victim !== undefined);
  process.kill(victim, 'SIGKILL');
  await eventually(
    'a replacement worker',
    () => {
      const now = server.workerPids();
      return now.length === 2 && !now.includes(victim);
    },
    10_000,
  );
  assert.match(server.output(), /a serving process died \(signal SIGKILL\): starting another/);
  for (let i = 0; i < 10; i++) assert.equal((await httpRequest(`${server.url}demo-pkg/`)).status, 200);

  // Processes that keep dying (here: killed as soon as they are up): after 6 deaths within a minute the primary gives up.
  const exited = once(server.child, 'close') as Promise<[number | null]>;
  let alive = true;
  void exited.then(() => (alive = false));
  const killed = new Set([victim]);
  while (alive && killed.size < 20) {
    for (const pid of server.workerPids()) {
      if (killed.has(pid)) continue;
      killed.add(pid);
      process.kill(pid, 'SIGKILL');
    }
    await sleep(20);
  }
  const [code] = await exited;
  assert.equal(code, 1, server.output());
  assert.match(server.output(), /the 6th within 60 s: stopping/);
});

test('serve --workers 2: SIGINT exits 130; a primary killed with SIGKILL leaves no worker holding the port', async () => {
  await using mirror = makeTempDir('dib-pypi-cluster-');
  await makeMirror(mirror.path);
  const interrupted = await startServe([mirror.path, '--workers', '2']);
  const interruptedWorkers = interrupted.workerPids();
  interrupted.child.kill('SIGINT');
  const [code] = (await once(interrupted.child, 'close')) as [number | null];
  assert.equal(code, 130);
  for (const pid of interruptedWorkers) assert.equal(isAlive(pid), false, `worker ${pid} outlived SIGINT`);

  const killed = await startServe([mirror.path, '--workers', '2']);
  const workers = killed.workerPids();
  assert.equal(workers.length, 2);
  killed.child.kill('SIGKILL');
  await once(killed.child, 'close');
  await eventually('the workers to exit after their primary', () => workers.every((pid) => !isAlive(pid)), 10_000);
  // The port is free again: a new server can take it.
  const probe = createServer();
  await new Promise<void>((done, fail) => probe.once('error', fail).listen(killed.port, '127.0.0.1', () => done()));
  probe.close();
});

test('serve --workers 2 on a port in use: one error, exit 1, no process left', async () => {
  await using mirror = makeTempDir('dib-pypi-cluster-');
  await makeMirror(mirror.path);
  const holder = createServer();
  await new Promise<void>((done) => holder.listen(0, '127.0.0.1', () => done()));
  const port = (holder.address() as { port: number }).port;
  try {
    const child = spawn(process.execPath, ['--', BIN, 'serve', mirror.path, '--workers', '2', '--port', String(port)], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 1, output);
    assert.equal(output.match(/the port is in use/g)?.length, 1, output);
  } finally {
    holder.close();
  }
});

test('serve --workers N is refused with --upstream and with uploads; bad counts are usage errors', async () => {
  await using mirror = makeTempDir('dib-pypi-cluster-');
  await makeMirror(mirror.path);
  const proxied = runCli(['serve', mirror.path, '--workers', '2', '--upstream', 'http://127.0.0.1:9/simple/']);
  assert.equal(proxied.status, 2);
  assert.match(proxied.stderr, /--workers: the pull-through cache \(--upstream\) runs in one process/);
  const uploads = runCli(['serve', mirror.path, '--workers', '3'], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: 'not-printed-token' }) });
  assert.equal(uploads.status, 2);
  assert.match(uploads.stderr, /--workers: serving with uploads runs in one process/);
  assert.doesNotMatch(uploads.stderr + uploads.stdout, /not-printed-token/);
  const zero = runCli(['serve', mirror.path, '--workers', '0']);
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /--workers: expected auto or a number of processes 1-64, got "0"/);
  // With uploads the default stays one process.
  await using single = await startServe([mirror.path], { env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: 'tok' }) });
  assert.deepEqual(single.workerPids(), []);
  assert.doesNotMatch(single.output(), /processes/);
});
