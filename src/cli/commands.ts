// The subcommands, in --help order: each one's declaration (commands/<name>.ts: flags, help, normaliser) and
// the module that runs it, loaded on demand (scripts/bundle.mjs turns each import into a require of its own bundle).
import { command, type Command } from './commands/declare.js';
import { buildahBuild } from './commands/buildah-build.js';
import { chroot } from './commands/chroot.js';
import { configure } from './commands/configure.js';
import { dockerBuild } from './commands/docker-build.js';
import { dockerRun } from './commands/docker-run.js';
import { elementPath } from './commands/element-path.js';
import { env } from './commands/env.js';
import { exec } from './commands/exec.js';
import { mirrorAdd } from './commands/mirror-add.js';
import { mirrorExport } from './commands/mirror-export.js';
import { mirrorIndex } from './commands/mirror-index.js';
import { mirrorRemove } from './commands/mirror-remove.js';
import { mirrorSync } from './commands/mirror-sync.js';
import { mirrorCache } from './commands/mirror-cache.js';
import { mirrorVerify } from './commands/mirror-verify.js';
import { mirrorUnyank, mirrorYank } from './commands/mirror-yank.js';
import { plan } from './commands/plan.js';
import { podmanBuild } from './commands/podman-build.js';
import { restore } from './commands/restore.js';
import { serve } from './commands/serve.js';

const TABLE: Command[] = [
  command(plan, async (options) => (await import('./plan-command.js')).runPlan(options)),
  command(configure, async (options) => (await import('./configure-command.js')).runConfigure(options)),
  command(restore, async (options) => (await import('./restore-command.js')).runRestore(options)),
  command(chroot, async (options) => (await import('./chroot-command.js')).runChroot(options)),
  command(exec, async (options) => (await import('./exec-command.js')).runExec(options)),
  command(env, async (options) => (await import('./env-command.js')).runEnv(options)),
  command(dockerBuild, async (options) => (await import('./docker-build-command.js')).runDockerBuild(options)),
  command(dockerRun, async (options) => (await import('./docker-run-command.js')).runDockerRun(options)),
  command(podmanBuild, async (options) => (await import('./podman-build-command.js')).runPodmanBuild(options)),
  command(buildahBuild, async (options) => (await import('./buildah-build-command.js')).runBuildahBuild(options)),
  command(mirrorIndex, async (options) => (await import('./mirror-index-command.js')).runMirrorIndex(options)),
  command(mirrorAdd, async (options) => (await import('./mirror-add-command.js')).runMirrorAdd(options)),
  command(mirrorSync, async (options) => (await import('./mirror-sync-command.js')).runMirrorSync(options)),
  command(mirrorExport, async (options) => (await import('./mirror-export-command.js')).runMirrorExport(options)),
  command(mirrorVerify, async (options) => (await import('./mirror-verify-command.js')).runMirrorVerify(options)),
  command(mirrorRemove, async (options) => (await import('./mirror-remove-command.js')).runMirrorRemove(options)),
  command(mirrorYank, async (options) => (await import('./mirror-yank-command.js')).runMirrorYank(options)),
  command(mirrorUnyank, async (options) => (await import('./mirror-yank-command.js')).runMirrorYank(options)),
  command(mirrorCache, async (options) => (await import('./mirror-cache-command.js')).runMirrorCache(options)),
  command(serve, async (options) => (await import('./serve-command.js')).runServe(options)),
  command(elementPath, async (options) => (await import('./element-path-command.js')).runElementPath(options)),
];

export const COMMANDS: Readonly<Record<string, Command>> = Object.fromEntries(TABLE.map((entry) => [entry.name, entry]));

/** Command groups (`mirror`): the first word of multi-word commands. */
export function isGroup(name: string): boolean {
  return name !== '' && !name.includes(' ') && Object.keys(COMMANDS).some((c) => c.startsWith(`${name} `));
}

/** `dib-pypi mirror --help` */
export function groupHelp(group: string): string {
  const lines = Object.entries(COMMANDS)
    .filter(([name]) => name.startsWith(`${group} `))
    .map(([name, spec]) => `  ${name.slice(group.length + 1).padEnd(16)} ${spec.summary}`);
  return `Usage: dib-pypi ${group} <command> [options]\n\nCommands:\n${lines.join('\n')}\n\nRun dib-pypi ${group} <command> --help for each command's options.`;
}

/** `dib-pypi --help` */
export function programHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(16)} ${spec.summary}`);
  return `Usage: dib-pypi <command> [options]

Offline, reproducible pip installs inside image builds (a successor of
diskimage-builder's pypi element).

Commands:
${lines.join('\n')}
  help [command]   show help for a command

Options:
  -h, --help       show help
  -V, --version    print the version

Exit codes: 0 ok, 1 failure, 2 bad usage or input.`;
}

/** `dib-pypi COMMAND --help` */
export function commandHelp(spec: Command): string {
  const summary = `${spec.summary[0]?.toUpperCase()}${spec.summary.slice(1)}.`;
  return `Usage: ${spec.usage}\n\n${summary}\n\nOptions:\n${spec.help}\n  -h, --help         show this help\n\n${spec.notes}`;
}
