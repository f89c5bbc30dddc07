// `dib-pypi mirror export LOCKFILE OUTDIR [--from MIRROR]`: a new mirror with exactly the locked files, checked and indexed.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../errors.js';
import { ExportFailedError, exportMirror, type ExportResult } from '../mirror/export/export-mirror.js';
import { defaultMirror } from '../targets/mirror-location.js';
import { printJson, printLine } from './output.js';
import { timingTracerFromEnv } from './timing-tracer.js';
import type { MirrorExportOptions } from './commands/mirror-export.js';

export async function runMirrorExport(flags: MirrorExportOptions): Promise<void> {
  const [lockFile, out] = flags.positionals as [string, string];
  if (!existsSync(lockFile) || !statSync(lockFile).isFile()) throw new UsageError(`LOCKFILE: no such file: ${JSON.stringify(lockFile)}`, 'mirror export');
  const source = resolve(flags.from ?? defaultMirror(process.env));
  if (!existsSync(source) || !statSync(source).isDirectory())
    throw new UsageError(`${flags.from === undefined ? 'the default mirror' : '--from'}: not a directory: ${JSON.stringify(source)}`, 'mirror export');
  const outDir = resolve(out);
  let result: ExportResult;
  try {
    result = await exportMirror({
      lockText: readFileSync(lockFile, 'utf8'),
      source,
      outDir,
      copy: flags.copy === true,
      tracer: timingTracerFromEnv(process.env),
    });
  } catch (error) {
    if (!(error instanceof ExportFailedError)) throw error;
    for (const problem of error.problems) process.stderr.write(`dib-pypi: ${problem}\n`);
    if (flags.json) printJson({ error: { type: error.name, message: error.message, exitCode: 1 }, problems: error.problems });
    process.stderr.write(`dib-pypi: error: ${error.problems.length} locked file(s) missing or mismatching; nothing written to ${outDir}\n`);
    process.exitCode = 1;
    return;
  }
  if (flags.json) printJson({ source, ...result });
  else {
    printLine(
      `exported ${result.files.length} files (${(result.bytes / 1e6).toFixed(1)} MB; ${result.linked} hard-linked, ${result.copied} copied) ` +
        `for ${result.pins} pins from ${source} to ${outDir}`,
    );
  }
}
