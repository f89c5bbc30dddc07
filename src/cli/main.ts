// The dib-pypi binary: parse argv with node:util parseArgs, load only the subcommand's module, turn errors into exit codes.
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError, type DibPypiError } from '../errors.js';
import { redact } from '../redact.js';
import { commandHelp, COMMANDS, groupHelp, isGroup, programHelp } from './commands.js';
import { parseArgsOptions, type Command } from './commands/declare.js';
import { findPackageRoot } from './package-root.js';
import { withFlagNames } from './input-errors.js';
import { joinNegativeValues } from './negative-values.js';

/** The version in our package.json, found by walking up from this file (bundled as CommonJS, or not). */
function version(): string {
  const here = typeof __dirname === 'string' ? __dirname : fileURLToPath(new URL('.', import.meta.url));
  return findPackageRoot(here)?.version ?? 'unknown';
}

/** What a command was given: help, or its flags (checked against its spec) and positional arguments. */
type ParsedArgs = { help: true } | { help: false; values: Record<string, unknown>; positionals: string[] };

/** parseArgs errors (unknown option, missing value, stray argument) become one-line usage errors. */
function parseCommandArgs(spec: Command, args: string[]): ParsedArgs {
  const name = spec.name;
  if (spec.rawArgs) {
    const own = args.indexOf('--') === -1 ? args : args.slice(0, args.indexOf('--'));
    return own.includes('-h') || own.includes('--help') ? { help: true } : { help: false, values: {}, positionals: args };
  }
  const options = parseArgsOptions(spec.options);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: joinNegativeValues(args, options),
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: spec.positionals !== undefined,
    });
  } catch (error) {
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option');
    throw new UsageError(`${message} (run dib-pypi ${name} --help for usage)`, `dib-pypi ${name}`);
  }
  const { help, ...values } = parsed.values;
  const { positionals } = parsed;
  if (help === true) return { help: true };
  const wanted = spec.positionals;
  if (wanted && (positionals.length < wanted.min || positionals.length > wanted.max)) {
    throw new UsageError(
      `expects ${wanted.names}, got ${positionals.length === 0 ? 'nothing' : positionals.map((p) => JSON.stringify(p)).join(' ')} (run dib-pypi ${name} --help for usage)`,
      `dib-pypi ${name}`,
    );
  }
  for (const flag of spec.required) {
    if (values[flag] === undefined) throw new UsageError(`required option --${flag} not given (run dib-pypi ${name} --help for usage)`, `dib-pypi ${name}`);
  }
  return { help: false, values, positionals };
}

/** `mirror index ...` -> the command name `mirror index` and its arguments; a group alone gets the group's help. */
function splitCommand(argv: string[]): { name: string; args: string[] } {
  const [first = '', second, ...rest] = argv;
  if (isGroup(first) && second !== undefined && !second.startsWith('-')) return { name: `${first} ${second}`, args: rest };
  return { name: first, args: argv.slice(1) };
}

async function main(argv: string[]): Promise<void> {
  const [first] = argv;
  if (first === undefined || first === '-h' || first === '--help') {
    process.stdout.write(programHelp() + '\n');
    if (first === undefined) process.exitCode = 2;
    return;
  }
  if (first === '-V' || first === '--version') {
    process.stdout.write(version() + '\n');
    return;
  }
  if (first === 'help') {
    const topic = argv.slice(1).join(' ');
    if (topic === '') process.stdout.write(programHelp() + '\n');
    else if (isGroup(topic)) process.stdout.write(groupHelp(topic) + '\n');
    else if (COMMANDS[topic]) process.stdout.write(commandHelp(COMMANDS[topic]) + '\n');
    else throw new UsageError(`unknown command '${topic}' (run dib-pypi --help for the list)`);
    return;
  }
  if (first.startsWith('-')) throw new UsageError(`unknown option '${first}' (run dib-pypi --help for usage)`);
  const { name, args } = splitCommand(argv);
  if (isGroup(name)) {
    process.stdout.write(groupHelp(name) + '\n');
    if (args.length === 0) process.exitCode = 2;
    else if (args[0] !== '-h' && args[0] !== '--help') throw new UsageError(`unknown option '${args[0]}' (run dib-pypi ${name} --help for usage)`);
    return;
  }
  const spec = COMMANDS[name];
  if (!spec) throw new UsageError(`unknown command '${name}' (run dib-pypi --help for the list)`);
  const parsed = parseCommandArgs(spec, args);
  if (parsed.help) {
    process.stdout.write(commandHelp(spec) + '\n');
    return;
  }
  try {
    await spec.run(parsed.values, parsed.positionals);
  } catch (error) {
    throw withFlagNames(error, spec.inputs);
  }
}

/**
 * Our errors, recognised by shape rather than `instanceof`: each subcommand is bundled on its own
 * (scripts/bundle.mjs), with its own copy of the error classes.
 */
function isDibPypiError(error: unknown): error is DibPypiError {
  return error instanceof Error && typeof (error as Partial<DibPypiError>).exitCode === 'number';
}

function report(error: unknown, json: boolean): number {
  if (isDibPypiError(error)) {
    process.stderr.write(`dib-pypi: error: ${redact(error.message)}\n`);
    if (json) process.stdout.write(JSON.stringify({ error: { type: error.name, message: redact(error.message), exitCode: error.exitCode } }) + '\n');
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`dib-pypi: error: ${redact(detail)}\n`);
  return 1;
}

// `dib-pypi plan | head`: a closed pipe ends the output, not the program with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(process.exitCode ?? 0);
});

// No top-level await: the shipped bundle is CommonJS (see scripts/bundle.mjs).
main(process.argv.slice(2)).catch((error: unknown) => {
  process.exitCode = report(error, process.argv.includes('--json'));
});
