// The dib-pypi binary as users meet it: help, version, exit codes, one-line errors naming the input, redaction everywhere.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { cleanEnv, runCli } from '../../helpers/cli.js';
import { makeTempRoot } from '../../helpers/fixture-root.js';

const SECRET = 'hunter2-token';

function inTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'dib-pypi-cli-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('help and version', () => {
  for (const args of [['--help'], ['plan', '--help'], ['configure', '--help'], ['restore', '--help'], ['help', 'configure']]) {
    test(`dib-pypi ${args.join(' ')}`, () => {
      const result = runCli(args);
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /Usage: dib-pypi/);
    });
  }
  test('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const result = runCli(['--version']);
    assert.equal(result.status, 0);
    assert.equal(result.stdout.trim(), pkg.version);
  });
});

describe('bad usage and input exit 2 with one line naming the input', () => {
  const cases: { name: string; args: string[]; env?: Record<string, string>; error: RegExp }[] = [
    { name: 'unknown flag', args: ['plan', '--frobnicate'], error: /unknown option '--frobnicate'/ },
    { name: 'unknown command', args: ['frobnicate'], error: /unknown command 'frobnicate'/ },
    { name: 'missing --root', args: ['configure'], error: /dib-pypi configure: required option --root not given/ },
    {
      name: 'bad scheme',
      args: ['plan'],
      env: { DIB_PYPI_MIRROR_URL_3: 'ftp://mirror/simple' },
      error: /^dib-pypi: error: DIB_PYPI_MIRROR_URL_3: unsupported scheme "ftp:"/m,
    },
    { name: 'not a URL', args: ['plan'], env: { DIB_PYPI_MIRROR_URL: 'htp:/x' }, error: /DIB_PYPI_MIRROR_URL: (not a URL|unsupported scheme)/ },
    { name: 'spaces', args: ['plan'], env: { DIB_PYPI_MIRROR_URL: 'http://a/ http://b/' }, error: /DIB_PYPI_MIRROR_URL: contains whitespace/ },
    { name: 'negative retries', args: ['plan'], env: { DIB_PIP_RETRIES: '-1' }, error: /DIB_PIP_RETRIES: not a non-negative integer: "-1"/ },
    { name: 'non-integer retries flag', args: ['plan', '--retries', '2.5'], error: /--retries: not a non-negative integer: "2.5"/ },
    { name: 'unreadable --env-file', args: ['plan', '--env-file', '/nonexistent/.env'], error: /--env-file: cannot read \/nonexistent\/\.env: ENOENT/ },
    { name: 'root that does not exist', args: ['configure', '--root', '/nonexistent/root'], error: /--root: cannot use "\/nonexistent\/root"/ },
    {
      name: 'mirror sync without --upstream',
      args: ['mirror', 'sync', '/nonexistent/mirror'],
      error: /^dib-pypi: error: dib-pypi mirror sync: required option --upstream not given \(on the command line or in --config\)$/m,
    },
    {
      name: 'a sync filter, checked below the CLI',
      args: ['mirror', 'sync', '/nonexistent/mirror', '--upstream', 'http://127.0.0.1:9/', '--python-version', 'py3'],
      error: /^dib-pypi: error: --python-version: expected a version such as 3\.11, got "py3"$/m,
    },
    {
      name: 'a bad --upstream of serve',
      args: ['serve', '/nonexistent/dir', '--upstream', 'ftp://h/'],
      error: /^dib-pypi: error: --upstream: expected an http:\/\/ or https:\/\/ URL, got "ftp:\/\/h\/"$/m,
    },
    {
      name: 'bad URL flag with a credential',
      args: ['plan', '--mirror-url', `gopher://me:${SECRET}@host/`],
      error: /--mirror-url: unsupported scheme "gopher:" in "gopher:\/\/me:\*\*\*@host\/"/,
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const result = runCli(c.args, { env: cleanEnv(c.env) });
      assert.equal(result.status, 2, `exit ${result.status}: ${result.stderr}`);
      assert.match(result.stderr, c.error);
      assert.ok(!result.stderr.includes(SECRET) && !result.stdout.includes(SECRET), 'a credential was printed');
    });
  }
});

describe('a negative number given as a separate argument', () => {
  // parseArgs alone reads `--retries -1` as a missing value and an option `-1`.
  const cases: string[][] = [
    ['plan', '--retries', '-1'],
    ['configure', '--root', '/nonexistent/root', '--retries', '-2'],
    ['mirror', 'sync', '/nonexistent/mirror', '--upstream', 'http://127.0.0.1:9/', '--retries', '-1'],
    ['mirror', 'sync', '/nonexistent/mirror', '--upstream', 'http://127.0.0.1:9/', '--jobs', '-3'],
    ['mirror', 'sync', '/nonexistent/mirror', '--upstream', 'http://127.0.0.1:9/', '-j', '-3'],
    ['mirror', 'sync', '/nonexistent/mirror', '--upstream', 'http://127.0.0.1:9/', '--latest', '-1'],
    ['mirror', 'sync', '/nonexistent/mirror', '--upstream', 'http://127.0.0.1:9/', '--timeout', '-0.5'],
    ['serve', '/nonexistent/mirror', '--port', '-5'],
  ];
  for (const args of cases) {
    const at = args.length - 2;
    const long = args[at] === '-j' ? '--jobs' : (args[at] as string);
    const joined = [...args.slice(0, at), `${long}=${args[at + 1]}`];
    test(`${args.join(' ')} fails as ${joined.at(-1)} does`, () => {
      const separate = runCli(args);
      const together = runCli(joined);
      assert.equal(together.status, 2, together.stderr);
      assert.equal(separate.status, 2, separate.stderr);
      assert.equal(separate.stderr, together.stderr);
      assert.equal(separate.stderr.trim().split('\n').length, 1, separate.stderr);
      assert.doesNotMatch(separate.stderr, /ambiguous|Did you forget/);
    });
  }
});

describe('plan', () => {
  test('flags beat env beat .env, and --json says where each value came from', () => {
    inTempDir((dir) => {
      writeFileSync(join(dir, '.env'), 'DIB_PIP_RETRIES=7\nDIB_NO_PYPI_PIP=1\nDIB_PYPI_MIRROR_URL=http://dotenv.example/simple\n');
      const env = cleanEnv({
        DIB_PYPI_MIRROR_URL: 'http://env.example/simple',
        DIB_PYPI_MIRROR_URL_10: 'http://ten.example/',
        DIB_PYPI_MIRROR_URL_2: 'http://two.example/',
      });
      const result = runCli(['plan', '--json', '--retries', '3'], { env, cwd: dir });
      assert.equal(result.status, 0, result.stderr);
      const plan = JSON.parse(result.stdout);
      assert.deepEqual(plan.indexUrl, { url: 'http://env.example/simple', source: 'env', origin: 'DIB_PYPI_MIRROR_URL' });
      assert.deepEqual(
        plan.extraIndexUrls.map((u: { url: string }) => u.url),
        ['http://two.example/', 'http://ten.example/'],
      );
      assert.deepEqual(plan.retries, { value: 3, source: 'flag', origin: '--retries' });
      assert.equal(plan.noPypi.value, true);
      assert.equal(plan.noPypi.source, 'dotenv');
      assert.deepEqual(plan.trustedHosts, ['env.example', 'two.example', 'ten.example']);
      assert.match(plan.files['pip.conf'], /^retries = 3$/m);
    });
  });

  test('credentials are redacted in text, JSON and warnings', () => {
    const env = cleanEnv({ PYPI_MIRROR_URL: `http://me:${SECRET}@legacy.example/simple`, PIP_INDEX_URL: `https://tok:${SECRET}@x/` });
    for (const args of [['plan'], ['plan', '--json']]) {
      const result = runCli(args, { env });
      assert.equal(result.status, 0, result.stderr);
      assert.ok(!result.stdout.includes(SECRET) && !result.stderr.includes(SECRET), `credential printed by ${args.join(' ')}`);
      assert.match(result.stdout, /http:\/\/me:\*\*\*@legacy\.example\/simple/);
      assert.match(result.stderr, /PYPI_MIRROR_URL\* is deprecated/);
    }
  });

  test('no URL: file:///tmp/pypi with a warning', () => {
    const result = runCli(['plan']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /^index-url\s+file:\/\/\/tmp\/pypi/m);
    assert.match(result.stderr, /no DIB_PYPI_MIRROR_URL set: using file:\/\/\/tmp\/pypi/);
  });
});

describe('configure and restore', () => {
  test('--json output is machine-readable and redacted', () => {
    using f = makeTempRoot();
    const configured = runCli(['configure', '--json', '--root', f.root, '--state-dir', f.state, '--mirror-url', `https://u:${SECRET}@idx.example/simple`]);
    assert.equal(configured.status, 0, configured.stderr);
    assert.deepEqual(JSON.parse(configured.stdout).written, ['/etc/pip.conf', '/root/.pydistutils.cfg']);
    assert.ok(!configured.stdout.includes(SECRET));
    const restored = runCli(['restore', '--json', '--root', f.root, '--state-dir', f.state]);
    assert.equal(restored.status, 0, restored.stderr);
    const result = JSON.parse(restored.stdout);
    assert.equal(result.hadJournal, true);
    assert.deepEqual(result.restored.sort(), ['/etc', '/etc/pip.conf', '/root', '/root/.pydistutils.cfg']);
  });

  test('a second dib-pypi on the same root is refused while the first holds it', () => {
    using f = makeTempRoot();
    const configured = runCli(['configure', '--root', f.root, '--state-dir', f.state]);
    assert.equal(configured.status, 0, configured.stderr);
    const roots = join(f.state, 'roots');
    const journals = readdirSync(roots);
    assert.equal(journals.length, 1);
    const key = journals[0] as string;
    // a live process (this test runner) holds the lock
    writeFileSync(join(roots, `${key}.lock`), `${process.pid}\n`);
    const blocked = runCli(['restore', '--root', f.root, '--state-dir', f.state]);
    assert.equal(blocked.status, 1);
    assert.match(blocked.stderr, /is being configured or restored by another dib-pypi \(pid \d+\)/);
    rmSync(join(roots, `${key}.lock`));
    assert.equal(runCli(['restore', '--root', f.root, '--state-dir', f.state]).status, 0);
  });
});
