// The dib-pypi binary: parse argv, load only the subcommand's module, turn errors into exit codes.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { DibPypiError } from '../errors.js';
import { redact } from '../redact.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The plan flags that every pip-configuring subcommand takes. */
function addPlanOptions(command: Command): Command {
  return command
    .option('--mirror-url <url>', 'index URL (repeatable): the first is index-url, the rest extra-index-url; replaces DIB_PYPI_MIRROR_URL[_N]', collect)
    .option('--offline', 'do not add the public index (as DIB_OFFLINE / disk-image-create --offline)')
    .option('--no-pypi', 'do not add the public index (as DIB_NO_PYPI_PIP)')
    .option('--retries <n>', 'pip retries (as DIB_PIP_RETRIES)')
    .option('--env-file <path>', 'read variables from this file (default: ./.env when present); flags beat env, env beats the file')
    .option('--json', 'print the result as JSON');
}

function addRootOptions(command: Command): Command {
  return command
    .requiredOption('--root <dir>', 'the root filesystem (chroot directory) to work on')
    .addOption(new Option('--state-dir <dir>', 'where journals and backups live, outside the root').env('DIB_PYPI_STATE_DIR'));
}

function buildProgram(): Command {
  const program = new Command('dib-pypi')
    .description('Offline, reproducible pip installs inside image builds (a successor of diskimage-builder\'s pypi element).')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(redact(text)), writeOut: (text) => process.stdout.write(text) });

  addPlanOptions(program.command('plan'))
    .description('show the plan built from flags, DIB_* variables and .env, and the pip.conf it would write')
    .addHelpText('after', `
Variables: DIB_PYPI_MIRROR_URL, DIB_PYPI_MIRROR_URL_<N> (numeric order), deprecated PYPI_MIRROR_URL*,
DIB_OFFLINE, DIB_NO_PYPI_PIP, DIB_PIP_RETRIES. With no URL: file:///tmp/pypi.`)
    .action(async (flags) => (await import('./plan-command.js')).runPlan(flags));

  addRootOptions(addPlanOptions(program.command('configure')))
    .description('point pip inside a root filesystem at the plan (journaled; undo with restore)')
    .option('--home <dir>', 'home directory, inside the root, of the user who runs pip', '/root')
    .addHelpText('after', `
Writes /etc/pip.conf and <home>/.pydistutils.cfg, and replaces <home>/.pip/pip.conf,
<home>/.config/pip/pip.conf and /etc/xdg/pip/pip.conf where they exist. The originals are
kept in a journal on the host (--state-dir), never inside the root.`)
    .action(async (flags) => (await import('./configure-command.js')).runConfigure(flags));

  addRootOptions(program.command('restore'))
    .description('give a root back every file configure changed, byte for byte; a no-op when there is nothing to restore')
    .option('--json', 'print the result as JSON')
    .action(async (flags) => (await import('./configure-command.js')).runRestore(flags));
  return program;
}

function report(error: unknown, json: boolean): number {
  if (error instanceof CommanderError) {
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
    return 2; // commander has already printed the message
  }
  if (error instanceof DibPypiError) {
    process.stderr.write(`dib-pypi: error: ${redact(error.message)}\n`);
    if (json) process.stdout.write(redact(JSON.stringify({ error: { type: error.name, message: error.message, exitCode: error.exitCode } })) + '\n');
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`dib-pypi: error: ${redact(detail)}\n`);
  return 1;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error, process.argv.includes('--json'));
}
