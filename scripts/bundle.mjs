// Bundle the CLI with esbuild into one CommonJS file. Start-up is most of what `configure` and
// `restore` cost (bench/configure-restore.ts): one CJS file skips the ESM loader's per-module
// resolve/link work and the ESM facades of node: builtins. Subcommand modules stay lazy
// (esbuild keeps `import()` targets as functions that run on first use).
import { build } from 'esbuild';

const common = { bundle: true, format: 'cjs', platform: 'node', target: 'node20', logLevel: 'error' };
await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli/dib-pypi.cjs' });
// The indexer's worker threads run this one, found beside the CLI bundle.
await build({ ...common, entryPoints: ['src/mirror/inspect-worker.ts'], outfile: 'dist/cli/inspect-worker.cjs' });
