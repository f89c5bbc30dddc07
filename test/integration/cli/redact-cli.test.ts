// Property: whatever a password holds (/ # ? @ % : blanks, unicode), no command that takes a URL prints it,
// raw, percent-encoded or decoded, on stdout or stderr, in text, --json, errors or warnings.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cleanEnv, runCli, runCliAsync, type CliResult } from '../../helpers/cli.js';
import { httpRequest } from '../../helpers/http-get.js';
import { randomPassword, secretForms, seededRandom } from '../../helpers/passwords.js';
import { DEBIAN_PYTHON, makeTempDir } from '../../helpers/python.js';
import { startServe } from '../../helpers/serve.js';

const SEED = Number(process.env.DIB_PYPI_REDACT_SEED ?? Date.now() % 100000);
const random = seededRandom(SEED);

// Fixed hard cases (a port-like start before '/', '@' and '%' forms, blanks, unicode), then random ones.
const FIXED = ['8080/x@y#z', 'p@ss w?rd#1', '%2Fa%40b%zz', 'ä€😀 日\u00a0本', 'a:b:c@@d'];
function passwords(randomCount: number): string[] {
  return [...FIXED, ...Array.from({ length: randomCount }, () => randomPassword(random))];
}

const work = makeTempDir('dib-pypi-redact-cli-');
/** A loopback port nothing listens on. */
let closedPort = 0;
/** An index that answers 404 to everything, quickly (pip fails at once, without retries). */
let emptyIndex: { server: Server; port: number } | undefined;

before(async () => {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  closedPort = (probe.address() as { port: number }).port;
  await new Promise((done) => probe.close(done));
  const server = createServer((_req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('not here\n'));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  emptyIndex = { server, port: (server.address() as { port: number }).port };
});

after(async () => {
  if (emptyIndex) await new Promise((done) => emptyIndex?.server.close(done));
  work.remove();
});

function url(password: string, port: number): string {
  return `http://alice:${password}@127.0.0.1:${port}/simple/`;
}

/** Nothing of the password in `output`; every `alice:` it prints is followed by a redaction mark. */
function assertNoSecret(output: string, password: string, what: string): void {
  const why = `${what}: seed ${SEED}, password ${JSON.stringify(password)}:\n${output}`;
  for (const form of secretForms(password)) assert.ok(!output.includes(form), `printed ${JSON.stringify(form)}: ${why}`);
  assert.doesNotMatch(output, /alice:(?!\*\*\*)/, `printed the start of the password: ${why}`);
}

function both(result: CliResult): string {
  return `${result.stdout}\n${result.stderr}`;
}

describe('no command prints a password', () => {
  test('plan, plan --json and DIB_PYPI_MIRROR_URL', () => {
    for (const password of passwords(3)) {
      const u = url(password, 8080);
      const env = cleanEnv({ PIP_INDEX_URL: u });
      assertNoSecret(both(runCli(['plan', '--mirror-url', u], { env })), password, 'plan');
      assertNoSecret(both(runCli(['plan', '--json', '--mirror-url', u, '--mirror-url', url(password, 8081)], { env })), password, 'plan --json');
      assertNoSecret(
        both(runCli(['plan', '--json'], { env: cleanEnv({ DIB_PYPI_MIRROR_URL: u, PYPI_MIRROR_URL_2: url(password, 9) }) })),
        password,
        'plan (variables)',
      );
    }
  });

  test('configure on a temp root (text and --json)', () => {
    let n = 0;
    for (const password of passwords(1)) {
      const root = join(work.path, `root-${n}`);
      const state = join(work.path, `state-${n++}`);
      mkdirSync(root, { recursive: true });
      const u = url(password, 8080);
      const result = runCli(['configure', '--root', root, '--state-dir', state, '--mirror-url', u, '--json']);
      assertNoSecret(both(result), password, 'configure');
      runCli(['restore', '--root', root, '--state-dir', state]);
    }
  });

  test('serve --upstream: the banner and the error lines when the upstream is unreachable', async () => {
    const mirror = join(work.path, 'serve-mirror');
    mkdirSync(mirror, { recursive: true });
    for (const password of passwords(3)) {
      const u = url(password, closedPort);
      let served: Awaited<ReturnType<typeof startServe>>;
      try {
        served = await startServe([mirror, '--upstream', u, '--timeout', '2']);
      } catch (error) {
        // Refused at start (an '@' after the host): the error is what is printed.
        assertNoSecret((error as Error).message, password, 'serve --upstream (refused)');
        continue;
      }
      await using server = served;
      const answer = await httpRequest(`${server.url}simple/some-project/`);
      await server.stop();
      assertNoSecret(`${server.output()}\n${JSON.stringify(answer.headers)}\n${answer.body.toString()}`, password, 'serve --upstream');
    }
  });

  test('mirror sync --upstream (text and --json, a closed port)', async () => {
    let n = 0;
    for (const password of passwords(2)) {
      const u = url(password, closedPort);
      for (const json of [[], ['--json']]) {
        const result = await runCliAsync(['mirror', 'sync', join(work.path, `sync-${n++}`), '--upstream', u, '--project', 'x', '--retries', '0', ...json]);
        assert.notEqual(result.status, 0);
        assertNoSecret(both(result), password, 'mirror sync');
      }
    }
  });

  test('mirror add --index-url (pip fails against an index that has nothing)', async () => {
    let n = 0;
    // pip runs take a second each: the hard cases that reach pip, and two random passwords.
    for (const [i, password] of [FIXED[1], FIXED[3], FIXED[4], ...passwords(2).slice(FIXED.length)].entries()) {
      const port = emptyIndex?.port ?? closedPort;
      for (const extra of [i === 0 ? ['--json', '--verbose'] : ['--verbose']]) {
        const result = await runCliAsync([
          'mirror',
          'add',
          join(work.path, `add-${n++}`),
          '--python',
          DEBIAN_PYTHON,
          '--no-lock',
          '--index-url',
          url(password as string, port),
          'some-project',
          ...extra,
        ]);
        assert.notEqual(result.status, 0);
        assertNoSecret(both(result), password as string, 'mirror add');
      }
    }
  });
});

test('the fixed hard cases are refused or redacted, never echoed (sanity of this test)', () => {
  const result = runCli(['plan', '--mirror-url', url('8080/x@y#z', 8080)]);
  assert.equal(result.status, 2);
  assert.match(result.stderr, /an '@' after the host/);
});
