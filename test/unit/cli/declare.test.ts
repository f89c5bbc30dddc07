// The command declarations: flags typed from their spec, pure normalisers, help assembled from each flag's lines.
import assert from 'node:assert/strict';
import { parseArgs } from 'node:util';
import { test } from 'node:test';
import { command, defineCommand, hasValuesOf, optionsHelp, parseArgsOptions } from '../../../src/cli/commands/declare.js';
import { COMMANDS } from '../../../src/cli/commands.js';
import { configure } from '../../../src/cli/commands/configure.js';
import { dockerBuild } from '../../../src/cli/commands/docker-build.js';
import { mirrorSync } from '../../../src/cli/commands/mirror-sync.js';
import { restore } from '../../../src/cli/commands/restore.js';
import { serve } from '../../../src/cli/commands/serve.js';
import { SERVE_HELP_ORDER, SERVE_OPTIONS, serveFlagsOf } from '../../../src/cli/commands/serve-options.js';

const demo = defineCommand({
  name: 'demo',
  summary: 'a demo',
  usage: 'dib-pypi demo',
  arguments: '  DIR   a directory',
  options: {
    name: { type: 'string', required: true, help: '  --name N   a name' },
    tag: { type: 'string', multiple: true, short: 't', help: '  -t, --tag T   a tag' },
    home: { type: 'string', default: '/root', help: '  --home DIR   a home' },
    dry: { type: 'boolean', help: '  --dry   nothing written' },
  },
  helpOrder: ['dry', 'name', 'tag', 'home'],
  notes: '',
  positionals: { names: 'DIR', min: 1, max: 1 },
  normalize: (values, positionals) => ({ dir: positionals[0], name: values.name, tags: values.tag ?? [], home: values.home, isDry: values.dry === true }),
});

test('hasValuesOf: known flags of the right type, required and defaulted ones present', () => {
  assert.ok(hasValuesOf(demo.options, { name: 'x', home: '/root' }));
  assert.ok(hasValuesOf(demo.options, { name: 'x', home: '/h', tag: ['a', 'b'], dry: true, other: undefined }));
  assert.ok(!hasValuesOf(demo.options, { home: '/root' }), 'required --name missing');
  assert.ok(!hasValuesOf(demo.options, { name: 'x' }), 'the default of --home is always there');
  assert.ok(!hasValuesOf(demo.options, { name: 'x', home: '/', tag: 'a' }), 'a repeatable flag is an array');
  assert.ok(!hasValuesOf(demo.options, { name: 'x', home: '/', tag: ['a', true] }));
  assert.ok(!hasValuesOf(demo.options, { name: true, home: '/' }));
  assert.ok(!hasValuesOf(demo.options, { name: 'x', home: '/', dry: 'yes' }));
  assert.ok(!hasValuesOf(demo.options, { name: 'x', home: '/', unknown: 'y' }));
});

test('parseArgsOptions: the spec without help and required, as parseArgs takes it; what it parses passes hasValuesOf', () => {
  const options = parseArgsOptions(demo.options);
  assert.deepEqual(options, {
    name: { type: 'string' },
    tag: { type: 'string', multiple: true, short: 't' },
    home: { type: 'string', default: '/root' },
    dry: { type: 'boolean' },
  });
  const { values } = parseArgs({ args: ['--name', 'n', '-t', 'a', '--tag=b', '--dry', 'DIR'], options, allowPositionals: true });
  assert.ok(hasValuesOf(demo.options, values));
  assert.deepEqual(demo.normalize(values, ['DIR']), { dir: 'DIR', name: 'n', tags: ['a', 'b'], home: '/root', isDry: true });
});

test('optionsHelp: the arguments first, then each flag in help order (spec order without one)', () => {
  assert.equal(optionsHelp(demo), '  DIR   a directory\n  --dry   nothing written\n  --name N   a name\n  -t, --tag T   a tag\n  --home DIR   a home');
  const { helpOrder: _order, arguments: _arguments, ...plain } = demo;
  assert.equal(optionsHelp(plain), '  --name N   a name\n  -t, --tag T   a tag\n  --home DIR   a home\n  --dry   nothing written');
});

test('command: run normalises the parsed flags before the command gets them; flags its spec lacks are a bug', async () => {
  const got: unknown[] = [];
  const entry = command(demo, (options) => void got.push(options));
  assert.deepEqual(entry.required, ['name']);
  await entry.run({ name: 'n', home: '/h' }, ['d']);
  assert.deepEqual(got, [{ dir: 'd', name: 'n', tags: [], home: '/h', isDry: false }]);
  await assert.rejects(entry.run({ name: 'n', home: '/h', bogus: true }, ['d']), /internal error: demo: parsed flags that its spec does not declare/);
});

test('configure and restore: kebab-case flags become the options their modules take', () => {
  assert.deepEqual(configure.normalize({ root: '/r', home: '/root', 'state-dir': '/s', 'mirror-url': ['u'], 'no-pypi': true, json: true }, []), {
    mirrorUrl: ['u'],
    offline: undefined,
    noPypi: true,
    retries: undefined,
    envFile: undefined,
    root: '/r',
    stateDir: '/s',
    home: '/root',
    mirror: undefined,
    json: true,
  });
  assert.deepEqual(restore.normalize({ root: '/r', 'kill-processes': true }, []), { root: '/r', stateDir: undefined, killProcesses: true, json: undefined });
});

test('mirror sync: the filter flags keep their names (a --config file uses them), unset ones stay undefined so the file can set them', () => {
  const options = mirrorSync.normalize({ upstream: 'http://u/', 'python-version': ['3.11'], jobs: '4', 'dry-run': true }, ['DIR']);
  assert.equal(options.dryRun, true);
  assert.deepEqual(options.positionals, ['DIR']);
  assert.equal(options.syncFlags.upstream, 'http://u/');
  assert.deepEqual(options.syncFlags['python-version'], ['3.11']);
  assert.equal(options.syncFlags.jobs, '4');
  assert.ok('delete' in options.syncFlags && options.syncFlags.delete === undefined);
});

test('docker build: every argument passes through, flags included', () => {
  assert.deepEqual(dockerBuild.normalize({}, ['-t', 'x', '--mirror', 'm', '.']), { rawArgs: ['-t', 'x', '--mirror', 'm', '.'] });
});

test('serve: the command line is kept by flag name for layering; serveFlagsOf names every flag of the spec', () => {
  assert.deepEqual(serve.normalize({ port: '0' }, ['/srv']), { values: { port: '0' }, positionals: ['/srv'] });
  const flags = serveFlagsOf({ 'max-page-size': '8M', upstream: ['http://a/'], 'print-config': true }, []);
  assert.equal(flags.maxPageSize, '8M');
  assert.deepEqual(flags.upstream, ['http://a/']);
  assert.equal(flags.printConfig, true);
  assert.equal(Object.keys(flags).length, Object.keys(SERVE_OPTIONS).length + 1, 'one option per flag, and positionals');
  assert.deepEqual([...SERVE_HELP_ORDER].sort(), Object.keys(SERVE_OPTIONS).sort(), '--help shows every flag once');
});

test('the table: every flag of every command has help lines shown by --help', () => {
  for (const entry of Object.values(COMMANDS)) {
    for (const [name, spec] of Object.entries(entry.options)) {
      assert.match(spec.help, new RegExp(`^  (-\\w, )?--${name}\\b`), `${entry.name} --${name}`);
      assert.ok(entry.help.includes(spec.help), `${entry.name} --${name} is in its help`);
    }
  }
});

test('inputs: a lower layer names an input, each command says which of its flags gave it', async () => {
  const { InputError, NotADirectoryError, UsageError } = await import('../../../src/errors.js');
  const { withFlagNames } = await import('../../../src/cli/input-errors.js');
  const shown = (error: unknown, name: string) => {
    const mapped = withFlagNames(error, COMMANDS[name]?.inputs ?? {});
    return mapped instanceof UsageError ? `${mapped.name} ${mapped.message}` : String(mapped);
  };
  const notDir = new NotADirectoryError('root', '/x');
  assert.equal(notDir.message, 'root: not a directory: "/x"');
  assert.equal(shown(notDir, 'configure'), 'UsageError --root: not a directory: "/x"');
  assert.equal(shown(notDir, 'chroot'), 'UsageError --root: not a directory: "/x"', 'chroot DIR is named as --root, as configure names it');
  assert.equal(shown(new NotADirectoryError('mirror', '/m'), 'docker build'), 'UsageError --mirror: not a directory: "/m"');
  assert.equal(shown(new InputError('htpasswd', 'F line 1: expected user:hash'), 'serve'), 'UsageError --upload-auth: F line 1: expected user:hash');
  assert.equal(shown(new InputError('image', 'no such image here: x'), 'docker run'), 'UsageError IMAGE: no such image here: x');
  assert.equal(shown(new InputError('lock', 'x'), 'mirror add'), 'UsageError --lock: x');
  assert.equal(shown(new InputError('nothing-of-plan', 'x'), 'plan'), 'InputError nothing-of-plan: x', 'an input no flag gave keeps its own name');
});

test('inputs: the mirror and upstream layers name their inputs as the options of mirror sync, mirror add and serve', async () => {
  const { InputError, UsageError } = await import('../../../src/errors.js');
  const { withFlagNames } = await import('../../../src/cli/input-errors.js');
  const { parsePythonVersion } = await import('../../../src/mirror/sync/options.js');
  const { parseSize } = await import('../../../src/parse-size.js');
  const { parseUpstreamUrl } = await import('../../../src/upstream/upstream-url.js');
  const { buildTargets, indexUrlArg } = await import('../../../src/mirror/add/add-plan.js');
  const shown = (run: () => unknown, name: string) => {
    try {
      run();
    } catch (error) {
      assert.ok(error instanceof InputError, `${name}: ${String(error)} is an InputError`);
      const mapped = withFlagNames(error, COMMANDS[name]?.inputs ?? {});
      return mapped instanceof UsageError ? `${mapped.name} ${mapped.exitCode} ${mapped.message}` : String(mapped);
    }
    return 'no error';
  };
  const rows: [() => unknown, string, string][] = [
    [() => parseUpstreamUrl('ftp://h/'), 'mirror sync', 'UsageError 2 --upstream: expected an http:// or https:// URL, got "ftp://h/"'],
    [() => parseUpstreamUrl('ftp://h/'), 'serve', 'UsageError 2 --upstream: expected an http:// or https:// URL, got "ftp://h/"'],
    [() => parsePythonVersion('py3'), 'mirror sync', 'UsageError 2 --python-version: expected a version such as 3.11, got "py3"'],
    [() => parseSize('ten', 'max-file-size'), 'mirror sync', 'UsageError 2 --max-file-size: expected a size such as 500000, 10M or 1.5GB, got "ten"'],
    // The serve module passes its size flags to parseSize by their own names.
    [() => parseSize('ten', '--max-page-size'), 'serve', 'UsageError 2 --max-page-size: expected a size such as 500000, 10M or 1.5GB, got "ten"'],
    [() => parseSize('ten', '--max-file-size'), 'serve', 'UsageError 2 --max-file-size: expected a size such as 500000, 10M or 1.5GB, got "ten"'],
    [
      () => buildTargets({ pythonVersions: [], platforms: [], implementation: 'CP', abis: [] }),
      'mirror add',
      'UsageError 2 --implementation: not a Python implementation (cp, pp, py): "CP"',
    ],
    [() => indexUrlArg('', 'extra-index-url', '/'), 'mirror add', 'UsageError 2 --extra-index-url: empty value'],
  ];
  for (const [run, name, expected] of rows) assert.equal(shown(run, name), expected);
  const other = new Error('boom');
  assert.equal(withFlagNames(other, { root: '--root' }), other);
});
