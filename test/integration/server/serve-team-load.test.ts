// A bounded load test of a team index on loopback: 64 connections of authenticated (--read-auth) page and
// file requests while uploads land and the pull-through cache downloads past --cache-max-size and evicts.
// Zero errors, every answer 200, nothing lost; the latency is printed (targets are the benchmarks' business,
// bench/serve.ts). The load is Debian's wrk (one thread: the other core is the server's).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { execa } from 'execa';
import { parseWrk } from '../../../bench/measure/wrk-report.js';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { startFaultUpstream } from '../../helpers/fault-server.js';
import { httpRequest } from '../../helpers/http-get.js';
import { makeWheel } from '../../helpers/make-dist.js';
import { basicAuth, multipart, twineFields } from '../../helpers/multipart.js';
import { makeTempDir } from '../../helpers/python.js';
import { canRunTwine, need } from '../../helpers/require.js';
import { startServe } from '../../helpers/serve.js';
import { eventually } from '../../helpers/wait.js';

const TOKEN = 'team-load-token-3';
const READER = basicAuth('alice', 'reader-Pa55');
const COLD = ['cold-a', 'cold-b', 'cold-c', 'cold-d', 'cold-e'];
const wheelOf = (project: string, version = '1.0') => `${project.replace(/-/g, '_')}-${version}-py3-none-any.whl`;

test('load: 64 connections of authenticated reads while uploads land and the cache evicts: no errors, nothing lost', async (t) => {
  if (!canRunTwine(t) || !need(t, existsSync('/usr/bin/wrk'), "wrk is missing: install Debian's wrk")) return;
  await using upstreamDir = makeTempDir('dib-pypi-team-load-upstream-');
  for (const project of ['hot-pkg', ...COLD]) {
    await makeWheel(join(upstreamDir.path, project), {
      name: project,
      version: '1.0',
      data: { [`${project.replace(/-/g, '_')}/blob.bin`]: randomBytes(100_000) },
    });
  }
  assert.equal(runCli(['mirror', 'index', upstreamDir.path]).status, 0);
  const size = statSync(join(upstreamDir.path, 'cold-a', wheelOf('cold-a'))).size;
  await using upstream = await startFaultUpstream(upstreamDir.path);
  await using cache = makeTempDir('dib-pypi-team-load-cache-');
  await using work = makeTempDir('dib-pypi-team-load-work-');
  const readers = join(work.path, 'readers');
  execFileSync('htpasswd', ['-cbB', readers, 'alice', 'reader-Pa55'], { stdio: 'ignore' });
  await using server = await startServe([cache.path, '--upstream', upstream.url, '--read-auth', readers, '--cache-max-size', String(Math.floor(size * 3.5))], {
    env: cleanEnv({ DIB_PYPI_UPLOAD_TOKEN: TOKEN }),
  });
  // The hot project's page and file are cached before the load.
  for (const path of ['simple/hot-pkg/', `simple/hot-pkg/${wheelOf('hot-pkg')}`]) {
    assert.equal((await httpRequest(server.url + path, { headers: { Authorization: READER } })).status, 200, path);
  }
  const wheels: Buffer[] = [];
  for (let i = 0; i < 8; i++) wheels.push(readFileSync(await makeWheel(work.path, { name: 'team-app', version: `1.${i}` })));

  // The paths wrk asks for in turn: the hot project's page (pip's Accept and a browser's), the root page, the hot file.
  const script = join(work.path, 'paths.lua');
  writeFileSync(
    script,
    `local paths = {"/simple/hot-pkg/", "/simple/", "/simple/hot-pkg/${wheelOf('hot-pkg')}"}\nlocal i = 0\nrequest = function()\n  i = i + 1\n  return wrk.format("GET", paths[(i % #paths) + 1])\nend\n`,
  );
  const wrk = (seconds: number) =>
    execa('wrk', ['-t1', '-c64', `-d${seconds}s`, '--timeout', '2s', '--latency', '-s', script, '-H', `Authorization: ${READER}`, server.url]).then((run) =>
      parseWrk(run.stdout),
    );
  // A first second warms the server (its code compiled, its memory cache filled) and is not counted.
  assert.equal((await wrk(1)).errors, 0);
  const load = wrk(5);
  const uploads = Promise.all(
    wheels.map((content, i) => {
      const form = multipart({ fields: twineFields('team-app', `1.${i}`, content), filename: wheelOf('team-app', `1.${i}`), content });
      return httpRequest(`${server.url}legacy/`, {
        method: 'POST',
        body: form.body,
        headers: { 'Content-Type': form.contentType, Authorization: basicAuth('__token__', TOKEN) },
      });
    }),
  );
  // Each cold download is stored, and past the limit the least recently used cold ones are evicted (never the hot file, served all along).
  const downloads = (async () => {
    const statuses: number[] = [];
    for (const project of COLD)
      statuses.push((await httpRequest(`${server.url}simple/${project}/${wheelOf(project)}`, { headers: { Authorization: READER } })).status);
    return statuses;
  })();
  const [result, answers, fetched] = await Promise.all([load, uploads, downloads]);

  assert.deepEqual(
    answers.map((a) => a.status),
    wheels.map(() => 200),
    answers.map((a) => a.body.toString()).join(''),
  );
  assert.deepEqual(
    fetched,
    COLD.map(() => 200),
  );
  console.log(`# 64 connections, ${result.completed} authenticated requests in 5 s: p50 ${result.p50Ms} ms, p99 ${result.p99Ms} ms`);
  assert.equal(result.errors, 0, 'answers that were not 2xx, or socket errors');
  assert.ok(result.completed >= 10_000, `only ${result.completed} requests`);

  await eventually('evictions to be logged', () => /evicted \d+ least recently used file/.test(server.output()));
  assert.ok(existsSync(join(cache.path, 'hot-pkg', wheelOf('hot-pkg'))), 'the file in use all along is kept');
  for (let i = 0; i < wheels.length; i++) assert.ok(existsSync(join(cache.path, 'team-app', wheelOf('team-app', `1.${i}`))), `upload 1.${i} kept`);
  const cachedCold = COLD.filter((p) => existsSync(join(cache.path, p, wheelOf(p))));
  assert.ok(cachedCold.length < COLD.length && cachedCold.includes('cold-e'), `cached now: ${cachedCold.join(', ')}`);
  await server.stop();
  const verify = runCli(['mirror', 'verify', cache.path]);
  assert.equal(verify.status, 0, verify.stdout + verify.stderr);
});
