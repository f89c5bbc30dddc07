// Bundle the CLI with esbuild into CommonJS files: dist/cli/dib-pypi.cjs (argument parsing and the
// command table) and one file per subcommand, required only when that subcommand runs. Start-up
// is most of what `configure` and `restore` cost (bench/configure-restore.ts): a CommonJS file
// skips the ESM loader's per-module work, and `restore` never even parses the mirror's code.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';

const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error', metafile: true };

/**
 * `(await import('./x-command.js'))` in the command table becomes `require('./x-command.cjs')`, the
 * separately built file: a dynamic import() from CommonJS would go through the ESM loader, which
 * costs a run tens of milliseconds of waiting.
 */
const commandsStayApart = {
  name: 'commands-stay-apart',
  setup(builder) {
    builder.onLoad({ filter: /src\/cli\/commands\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      const contents = source.replace(/\(await import\('\.\/([a-z-]+-command)\.js'\)\)/g, "require('./$1.cjs')");
      return { contents, loader: 'ts' };
    });
    builder.onResolve({ filter: /-command\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * The bundles carry every runtime dependency (package.json has no `dependencies`), so the package
 * must carry their licenses too: dist/cli/THIRD-PARTY-LICENSES.txt lists each bundled package
 * (name, version, license) with the text of its license file(s), sorted, the same bytes each build.
 */
function writeThirdPartyLicenses(metafiles, outfile) {
  const dirs = new Set();
  for (const metafile of metafiles) {
    for (const input of Object.keys(metafile.inputs)) {
      const dir = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1];
      if (dir !== undefined) dirs.add(dir);
    }
  }
  const entries = new Map();
  for (const dir of dirs) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const files = readdirSync(dir)
      .filter((name) => /^(licen[cs]e|copying|notice)/i.test(name))
      .sort();
    const texts = files.map((name) => readFileSync(join(dir, name), 'utf8').trim());
    const license = typeof pkg.license === 'string' ? pkg.license : 'see the license text';
    const body = texts.length > 0 ? texts.join('\n\n') : `(${pkg.name} ${pkg.version} ships no license file; its package.json says ${license})`;
    entries.set(`${pkg.name}@${pkg.version}`, `${pkg.name} ${pkg.version} (${license})\n\n${body}\n`);
  }
  const sorted = [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, text]) => text);
  const header = `The dib-pypi bundles in this directory include the following packages (${sorted.length}).\n`;
  writeFileSync(outfile, [header, ...sorted].join(`\n${'-'.repeat(78)}\n\n`));
}

const commands = readdirSync('src/cli').filter((name) => name.endsWith('-command.ts'));
const results = [
  await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli/dib-pypi.cjs', plugins: [commandsStayApart] }),
  // dockerode's ssh2 tries native add-ons (cpu-features, sshcrypto.node) inside try/catch and falls
  // back to JavaScript: they stay out of the bundle (we talk to a local socket, not over SSH).
  await build({
    ...common,
    entryPoints: commands.map((name) => `src/cli/${name}`),
    outdir: 'dist/cli',
    outExtension: { '.js': '.cjs' },
    external: ['cpu-features', '*.node'],
  }),
  // The indexer's worker threads run this one, found beside the command bundles.
  await build({ ...common, entryPoints: ['src/mirror/index/inspect-worker.ts'], outfile: 'dist/cli/inspect-worker.cjs' }),
  // The sync's writer thread (src/mirror/sync/writer.ts).
  await build({ ...common, entryPoints: ['src/mirror/sync/writer-thread.ts'], outfile: 'dist/cli/sync-writer-thread.cjs' }),
  // The upload server's threads for bcrypt and BLAKE2b (src/server/upload-threads.ts).
  await build({ ...common, entryPoints: ['src/server/upload-thread.ts'], outfile: 'dist/cli/upload-thread.cjs' }),
  // The serving process's re-index thread, likewise.
  await build({ ...common, entryPoints: ['src/server/index-thread.ts'], outfile: 'dist/cli/index-thread.cjs' }),
];
writeThirdPartyLicenses(
  results.map((result) => result.metafile),
  'dist/cli/THIRD-PARTY-LICENSES.txt',
);
