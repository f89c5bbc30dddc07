// render-env: the variables a plan gives pip and uv, and every format read back by its consumer (sh, dotenv, GitHub's syntax, fish's rules).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { parse } from 'dotenv';
import { buildPlan } from '../../../src/plan/build-plan.js';
import {
  competingVariables,
  pipEnvironment,
  quoteDotenv,
  quoteFish,
  renderEnv,
  renderExecPipConf,
  withoutCompeting,
  type EnvVariable,
} from '../../../src/inject/render-env.js';
import { UsageError } from '../../../src/errors.js';

const HOSTILE = [
  'plain',
  '',
  "it's",
  'a"b',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a value with shell syntax, to be quoted
  'dollar $HOME ${HOME} $(id) `id`',
  'back\\slash \\n \\r \\',
  'two\nlines',
  'ends with newline\n',
  '  spaces  around  ',
  '#hash = x',
  'mix \' " ` $ \\ \n end',
  'tab\there',
  'http://user:p%40ss@127.0.0.1:8080/simple/',
];

function varsOf(values: string[]): EnvVariable[] {
  return values.map((value, i) => ({ name: `V_${i}`, value }));
}

test('pipEnvironment: one index, offline: PIP_* with empty extras and no UV_EXTRA_INDEX_URL', () => {
  const plan = buildPlan({ flags: { mirrorUrls: ['file:///srv/mirror'], offline: true }, env: {}, dotenv: {} });
  assert.deepEqual(pipEnvironment(plan, '/dev/null'), [
    { name: 'PIP_CONFIG_FILE', value: '/dev/null' },
    { name: 'PIP_INDEX_URL', value: 'file:///srv/mirror' },
    { name: 'PIP_EXTRA_INDEX_URL', value: '' },
    { name: 'PIP_TRUSTED_HOST', value: '' },
    { name: 'UV_INDEX_URL', value: 'file:///srv/mirror' },
  ]);
});

test('pipEnvironment: extras space-separated, every http host trusted, retries', () => {
  const plan = buildPlan({ flags: { mirrorUrls: ['http://u:p@127.0.0.1:8080/simple/', 'http://[::1]:9/s/'], retries: '3' }, env: {}, dotenv: {} });
  assert.deepEqual(pipEnvironment(plan, '/tmp/x/pip.conf'), [
    { name: 'PIP_CONFIG_FILE', value: '/tmp/x/pip.conf' },
    { name: 'PIP_INDEX_URL', value: 'http://u:p@127.0.0.1:8080/simple/' },
    { name: 'PIP_EXTRA_INDEX_URL', value: 'http://[::1]:9/s/ https://pypi.org/simple' },
    { name: 'PIP_TRUSTED_HOST', value: '127.0.0.1:8080 ::1' },
    { name: 'PIP_RETRIES', value: '3' },
    { name: 'UV_INDEX_URL', value: 'http://u:p@127.0.0.1:8080/simple/' },
    { name: 'UV_EXTRA_INDEX_URL', value: 'http://[::1]:9/s/ https://pypi.org/simple' },
  ]);
});

test('renderExecPipConf: the plan settings under an exec header', () => {
  const plan = buildPlan({ flags: { mirrorUrls: ['file:///m'], offline: true }, env: {}, dotenv: {} });
  assert.equal(renderExecPipConf(plan), '# Written by dib-pypi exec for one command; removed when it ends.\n[global]\nindex-url = file:///m\n');
});

test('competingVariables: replaced ones and ones left in place; withoutCompeting drops them all', () => {
  const env = { PIP_INDEX_URL: 'x', PIP_FIND_LINKS: '/w', UV_DEFAULT_INDEX: 'y', PIP_TRUSTED_HOST: '', HOME: '/h' };
  const plan = buildPlan({ flags: { mirrorUrls: ['file:///m'], offline: true }, env: {}, dotenv: {} });
  assert.deepEqual(competingVariables(env, pipEnvironment(plan, '/dev/null')), [
    { name: 'PIP_INDEX_URL', value: 'x', isReplaced: true },
    { name: 'PIP_FIND_LINKS', value: '/w', isReplaced: false },
    { name: 'UV_DEFAULT_INDEX', value: 'y', isReplaced: false },
  ]);
  assert.deepEqual(withoutCompeting(env), { HOME: '/h' });
});

test('sh: eval in sh gives every hostile value back byte for byte', () => {
  const vars = varsOf(HOSTILE);
  const script = `eval "$1"; for n in ${vars.map((v) => v.name).join(' ')}; do eval "printf '%s\\0' \\"\\$$n\\""; done`;
  const result = spawnSync('sh', ['-c', script, 'sh', renderEnv(vars, 'sh')], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stdout.split('\0').slice(0, -1), HOSTILE);
});

test('sh: exact text', () => {
  assert.equal(renderEnv([{ name: 'A', value: "it's" }], 'sh'), "export A='it'\\''s'\n");
});

test('dotenv: dotenv.parse gives every hostile value back', () => {
  const representable = HOSTILE.filter((v) => v !== 'mix \' " ` $ \\ \n end');
  const vars = varsOf(representable);
  const parsed = parse(renderEnv(vars, 'dotenv'));
  assert.deepEqual(
    vars.map((v) => parsed[v.name]),
    representable,
  );
});

test('dotenv: quoting choice per value; CR survives only in double quotes; the impossible value is refused', () => {
  assert.equal(quoteDotenv('A', 'x'), "'x'");
  assert.equal(quoteDotenv('A', "it's"), "`it's`");
  assert.equal(quoteDotenv('A', "a'`\nb"), '"a\'`\\nb"');
  assert.equal(parse(`A=${quoteDotenv('A', 'a\rb')}\n`).A, 'a\rb');
  assert.throws(() => quoteDotenv('A', 'mix \' " ` \n'), UsageError);
});

/** $GITHUB_ENV as the runner reads it (docs: "Setting an environment variable", "Multiline strings"). */
function parseGithubEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const body: string[] = [];
      for (i++; lines[i] !== delimiter; i++) {
        assert.ok(i < lines.length, `unterminated ${name}`);
        body.push(lines[i] as string);
      }
      out[name] = body.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

test('github: NAME=value lines and heredocs read back by the documented syntax', () => {
  const values = [...HOSTILE.filter((v) => !v.includes('\r')), 'has DIB_PYPI_EOF\nDIB_PYPI_EOF\nin it'];
  const vars = varsOf(values);
  const text = renderEnv(vars, 'github');
  const parsed = parseGithubEnv(text);
  assert.deepEqual(
    vars.map((v) => parsed[v.name]),
    values,
  );
  assert.match(text, /^V_13<<DIB_PYPI_EOF_1$/m);
  assert.match(text, /^V_0=plain$/m);
});

/** fish single quotes: \\ -> \, \' -> ', any other backslash stays (fish docs, "Quotes"). */
function unquoteFish(quoted: string): string {
  assert.ok(quoted.startsWith("'") && quoted.endsWith("'"));
  const body = quoted.slice(1, -1);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] as string;
    if (c === '\\' && (body[i + 1] === '\\' || body[i + 1] === "'")) {
      out += body[++i];
      continue;
    }
    assert.notEqual(c, "'", 'an unescaped quote ends the string early');
    out += c;
  }
  return out;
}

test('fish: every hostile value survives fish quoting (and fish itself when installed)', () => {
  for (const value of HOSTILE) assert.equal(unquoteFish(quoteFish(value)), value, JSON.stringify(value));
  assert.equal(renderEnv([{ name: 'A', value: "a'b\\" }], 'fish'), "set -gx A 'a\\'b\\\\'\n");
  if (spawnSync('fish', ['--version']).status !== 0) return;
  const vars = varsOf(HOSTILE);
  const script = `${renderEnv(vars, 'fish')}\nfor n in ${vars.map((v) => v.name).join(' ')}; printf '%s\\0' "$$n"; end`;
  const result = spawnSync('fish', ['-c', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  assert.deepEqual(result.stdout.split('\0').slice(0, -1), HOSTILE);
});
