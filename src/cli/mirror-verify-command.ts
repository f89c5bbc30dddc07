// `dib-pypi mirror verify DIR [--repair]`: report every corrupted, missing or unindexed file and stale page; exit 1 if any.
import { resolve } from 'node:path';
import { indexMirror } from '../mirror/index/index-mirror.js';
import { quarantine, verifyMirror, type Finding, type VerifyProgress, type VerifyResult } from '../mirror/verify/verify-mirror.js';
import { printJson, printLine } from './output.js';
import { indexSnapshot, verifySnapshot } from './progress-labels.js';
import { statusLineFromFlags } from './progress-flags.js';
import type { MirrorVerifyOptions } from './commands/mirror-verify.js';

export async function runMirrorVerify(flags: MirrorVerifyOptions): Promise<void> {
  const dir = resolve(flags.positionals[0] as string);
  const progress = statusLineFromFlags(flags, process.env, process.stderr);
  const onVerifyProgress = (prefix: string) => (p: VerifyProgress) => progress.progress(verifySnapshot(p, prefix));
  let result: VerifyResult;
  let quarantined: string[] = [];
  let remaining: Finding[];
  try {
    result = await verifyMirror({ dir, onProgress: onVerifyProgress('verify') });
    remaining = result.findings;
    if (flags.repair && result.findings.length > 0) {
      quarantined = quarantine(dir, result.findings);
      await indexMirror({ dir, full: true, onProgress: (p) => progress.progress(indexSnapshot(p, 'repair: index')) });
      remaining = (await verifyMirror({ dir, onProgress: onVerifyProgress('repair: verify') })).findings;
    }
  } finally {
    progress.clear();
  }
  if (flags.json) {
    printJson({ dir, files: result.files, bytes: result.bytes, findings: result.findings, quarantined, remaining: flags.repair ? remaining : undefined });
  } else {
    for (const f of result.findings) printLine(`${f.kind.padEnd(10)} ${f.path}: ${f.detail}`);
    for (const q of quarantined) printLine(`quarantined ${q}`);
    const mb = (result.bytes / 1e6).toFixed(1);
    if (result.findings.length === 0) printLine(`verified ${dir}: ${result.files} files, ${mb} MB, all match the index`);
    else if (flags.repair) printLine(`repaired ${dir}: ${result.findings.length} finding(s); ${remaining.length} left after re-indexing`);
    else printLine(`${dir}: ${result.findings.length} finding(s) in ${result.files} files (run with --repair to fix what can be fixed)`);
  }
  if ((flags.repair ? remaining : result.findings).length > 0) process.exitCode = 1;
}
