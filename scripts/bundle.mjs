// Bundle the CLI with esbuild into one CommonJS file. Start-up is most of what `configure` and
// `restore` cost (bench/configure-restore.ts): one CJS file skips the ESM loader's per-module
// resolve/link work and the ESM facades of node: builtins. Subcommand modules stay lazy
// (esbuild keeps `import()` targets as functions that run on first use).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/cli/main.ts'],
  outfile: 'dist/cli/dib-pypi.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'error',
});
