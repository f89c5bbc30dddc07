// The CI recipes of docs/ci/: their scripts (GitHub `run:`, GitLab `script:`), the dib-pypi command
// lines in them, and each line checked the way src/cli/main.ts parses argv, with the real command table.
import { readdirSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDocument } from 'yaml';
import { COMMANDS, isGroup } from '../../src/cli/commands.js';
import { hasValuesOf, parseArgsOptions, type Declaration, type OptionSpecs } from '../../src/cli/commands/declare.js';
import { joinNegativeValues } from '../../src/cli/negative-values.js';
import { splitBuildArgs } from '../../src/targets/docker-build-args.js';
import { commandsNamed, logicalLines } from './shell-words.js';

/** One script of a recipe: where it is (`jobs.test.steps[4].run`) and its text. */
export interface Script {
  where: string;
  text: string;
}

/** A dib-pypi command found in a script: the logical line it is on and its arguments. */
export interface FoundCommand {
  where: string;
  line: string;
  argv: string[];
}

/** YAML text -> a plain value; throws with every error (a duplicate key is one) and warning. */
export function parseRecipe(text: string): unknown {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return doc.toJS();
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** GitHub Actions: `jobs` of `runs-on` and `steps`, each step a `uses` or a `run`. Returns the `run` scripts; throws on a wrong shape. */
export function githubScripts(workflow: unknown): Script[] {
  if (!isRecord(workflow) || !isRecord(workflow.jobs) || Object.keys(workflow.jobs).length === 0) throw new Error('no jobs');
  if (!('on' in workflow)) throw new Error('no on: trigger');
  const scripts: Script[] = [];
  for (const [name, job] of Object.entries(workflow.jobs)) {
    if (!isRecord(job) || typeof job['runs-on'] !== 'string' || !Array.isArray(job.steps) || job.steps.length === 0)
      throw new Error(`jobs.${name}: needs runs-on and steps`);
    const needs = job.needs === undefined ? [] : [job.needs].flat();
    for (const need of needs) if (typeof need !== 'string' || !(need in workflow.jobs)) throw new Error(`jobs.${name}.needs: no job ${String(need)}`);
    job.steps.forEach((step: unknown, i) => {
      const where = `jobs.${name}.steps[${i}]`;
      if (!isRecord(step) || (typeof step.run === 'string') === (typeof step.uses === 'string')) throw new Error(`${where}: needs run or uses (one of them)`);
      if (typeof step.run === 'string') scripts.push({ where: `${where}.run`, text: step.run });
    });
  }
  return scripts;
}

/** Top-level keys of .gitlab-ci.yml that are not jobs. */
const GITLAB_KEYWORDS = new Set(['stages', 'variables', 'default', 'include', 'workflow', 'image', 'services', 'cache', 'before_script', 'after_script']);
const SCRIPT_KEYS = ['before_script', 'script', 'after_script'];

/** GitLab CI: `stages`, and jobs each in one of them with a `script` (own or by `extends`). Returns every script entry; throws on a wrong shape. */
export function gitlabScripts(pipeline: unknown): Script[] {
  if (!isRecord(pipeline) || !Array.isArray(pipeline.stages) || pipeline.stages.length === 0) throw new Error('no stages');
  const stages = pipeline.stages;
  for (const keyword of GITLAB_KEYWORDS) {
    const value = pipeline[keyword];
    if (isRecord(value) && 'script' in value) throw new Error(`${keyword}: a global keyword, not a job name`);
  }
  const scripts: Script[] = [];
  const jobs = Object.entries(pipeline).filter(([name]) => !GITLAB_KEYWORDS.has(name));
  if (!jobs.some(([name]) => !name.startsWith('.'))) throw new Error('no jobs');
  for (const [name, job] of jobs) {
    if (!isRecord(job)) throw new Error(`${name}: not a job`);
    const parent = typeof job.extends === 'string' ? pipeline[job.extends] : undefined;
    if (job.extends !== undefined && !isRecord(parent)) throw new Error(`${name}.extends: no job ${String(job.extends)}`);
    if (!name.startsWith('.')) {
      if (!stages.includes(job.stage)) throw new Error(`${name}.stage: ${String(job.stage)} is not in stages`);
      if (job.script === undefined && (!isRecord(parent) || parent.script === undefined)) throw new Error(`${name}: no script`);
    }
    for (const key of SCRIPT_KEYS) {
      const entries: unknown = job[key];
      if (entries === undefined) continue;
      if (!Array.isArray(entries) || !entries.every((e) => typeof e === 'string')) throw new Error(`${name}.${key}: not a list of strings`);
      entries.forEach((text: string, i) => void scripts.push({ where: `${name}.${key}[${i}]`, text }));
    }
  }
  return scripts;
}

/** Every `dib-pypi ...` command of the scripts, one per simple command (`a && dib-pypi x` counts). */
export function dibPypiCommands(scripts: readonly Script[]): FoundCommand[] {
  return scripts.flatMap(({ where, text }) =>
    logicalLines(text).flatMap((line) => commandsNamed(line, 'dib-pypi').map((argv) => ({ where, line: line.trim(), argv }))),
  );
}

type AnyDeclaration = Declaration<OptionSpecs, unknown>;

function isDeclaration(value: unknown): value is AnyDeclaration {
  return isRecord(value) && typeof value.name === 'string' && typeof value.normalize === 'function' && isRecord(value.options);
}

/** Every declaration of src/cli/commands/, by command name (the table keeps only their erased form, without `normalize`). */
export async function loadDeclarations(): Promise<Map<string, AnyDeclaration>> {
  const dir = new URL('../../src/cli/commands/', import.meta.url);
  const found = new Map<string, AnyDeclaration>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js'))) {
    const module: Record<string, unknown> = await import(new URL(file, dir).href);
    for (const value of Object.values(module)) if (isDeclaration(value)) found.set(value.name, value);
  }
  return found;
}

/** How main.ts splits `mirror index DIR` into a command and its arguments. */
export function splitCommand(argv: readonly string[]): { name: string; args: string[] } {
  const [first = '', second, ...rest] = argv;
  if (isGroup(first) && second !== undefined && !second.startsWith('-')) return { name: `${first} ${second}`, args: rest };
  return { name: first, args: argv.slice(1) };
}

/** Commands that parse their own arguments (`rawArgs`), and the parser each runs on what its normaliser returns. */
const RAW_PARSERS: Readonly<Record<string, (normalized: unknown) => void>> = {
  'docker build': (normalized) => {
    if (!isRecord(normalized) || !Array.isArray(normalized.rawArgs)) throw new Error('docker build: normalize returned no rawArgs');
    splitBuildArgs(normalized.rawArgs.map(String));
  },
};

/**
 * Why `dib-pypi ARGV` would be refused before it does anything, or undefined when it parses: the
 * command exists, its flags are declared with the right kind of value, the positionals and required
 * flags are there (as main.ts checks them), and its declaration's normaliser accepts the result.
 */
export function argvProblem(argv: readonly string[], declarations: ReadonlyMap<string, AnyDeclaration>): string | undefined {
  const { name, args } = splitCommand(argv);
  if (name === '' || name.startsWith('-')) return `no command: ${argv.join(' ')}`;
  if (isGroup(name)) return `'${name}' is a group of commands: which one?`;
  const spec = COMMANDS[name];
  const declaration = declarations.get(name);
  if (spec === undefined) return `unknown command '${name}'`;
  if (declaration === undefined) return `no declaration for '${name}' in src/cli/commands/`;
  try {
    if (spec.rawArgs) {
      const parse = RAW_PARSERS[name];
      if (parse === undefined) return `'${name}' parses its own arguments: this test does not know how`;
      parse(declaration.normalize({}, args));
      return undefined;
    }
    const options = parseArgsOptions(spec.options);
    const { values, positionals } = parseArgs({
      args: joinNegativeValues(args, options),
      options,
      strict: true,
      allowPositionals: spec.positionals !== undefined,
    });
    const wanted = spec.positionals;
    if (wanted && (positionals.length < wanted.min || positionals.length > wanted.max))
      return `${name} expects ${wanted.names}, got ${positionals.length} argument(s)`;
    const missing = spec.required.find((flag) => values[flag] === undefined);
    if (missing !== undefined) return `${name}: required option --${missing} not given`;
    if (!hasValuesOf(declaration.options, values)) return `${name}: parsed flags that its declaration does not have`;
    declaration.normalize(values, positionals);
    return undefined;
  } catch (error) {
    return `${name}: ${(error as Error).message.replace(/\. To specify a positional argument.*$/s, '').replace(/^Unknown option/, 'unknown option')}`;
  }
}
