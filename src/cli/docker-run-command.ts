// `dib-pypi docker run IMAGE [--mirror DIR] [--commit TAG] -- CMD...`: CMD's exit code is ours.
import Docker from 'dockerode';
import { runInContainer, type RunReport } from '../targets/container-runner.js';
import { resolveMirror } from '../targets/mirror-location.js';
import { redact } from '../redact.js';
import { printJson, warn, warnAll } from './output.js';
import { planFromCli } from './plan-input.js';
import type { DockerRunOptions } from './commands/docker-run.js';

export async function runDockerRun(flags: DockerRunOptions): Promise<void> {
  const [image, ...command] = flags.positionals as [string, ...string[]];
  const plan = await planFromCli(flags, process.env, process.cwd());
  warnAll(plan.warnings);
  const mirror = resolveMirror(flags.mirror, process.env);
  const report: RunReport = { command, image, exitCode: 1, network: flags.network ?? '', mounts: [], removed: false };
  const result = await runInContainer(
    {
      docker: new Docker(),
      image,
      command,
      plan,
      ...(mirror !== undefined ? { mirror } : {}),
      ...(flags.commit !== undefined ? { commit: flags.commit } : {}),
      ...(flags.network !== undefined ? { network: flags.network } : {}),
      // --json: stdout carries the report alone; CMD's output goes to stderr.
      stdout: flags.json ? process.stderr : process.stdout,
      stderr: process.stderr,
      warn,
      progress: (text) => process.stderr.write(`dib-pypi: ${redact(text)}\n`),
    },
    report,
  );
  if (flags.json) printJson(report);
  process.exitCode = result.exitCode;
}
